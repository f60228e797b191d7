from django.core.management.base import BaseCommand

from agents.models import Company
from contacts.ownership import contacts_recount_primary_load


class Command(BaseCommand):
    help = "Rebuild each agent's primary-contact count (the workload page) from the contacts."

    def handle(self, *args, **options) -> None:
        for company in Company.objects.order_by("name"):
            agents = contacts_recount_primary_load(company=company)
            self.stdout.write(f"{company}: {agents} agent(s) counted.")
