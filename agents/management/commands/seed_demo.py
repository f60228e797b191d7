"""Load the demo company: an admin, a supervisor, five agents, a leads agent, 50 contacts.

Safe to run again: it creates what is missing and changes nothing else.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from agents.models import AccessLevel, Agent, Company, Presence
from contacts.models import Contact
from contacts.phone import normalise_phone
from contacts.services import contact_create

DEMO_COMPANY = "Northwind Realty"
DEMO_PASSWORD = "switchboard-demo"  # noqa: S105 - printed for the demo on purpose

DEMO_PEOPLE = [
    ("admin@northwind.test", "Alex Admin", AccessLevel.ADMIN),
    ("supervisor@northwind.test", "Sam Supervisor", AccessLevel.SUPERVISOR),
    ("ava@northwind.test", "Ava Patel", AccessLevel.AGENT),
    ("ben@northwind.test", "Ben Okafor", AccessLevel.AGENT),
    ("chloe@northwind.test", "Chloe Martin", AccessLevel.AGENT),
    ("diego@northwind.test", "Diego Alvarez", AccessLevel.AGENT),
    ("emma@northwind.test", "Emma Schmidt", AccessLevel.AGENT),
    ("leads@northwind.test", "Lee Leads", AccessLevel.LEADS_AGENT),
]

FIRST = ["Olivia", "Liam", "Noah", "Mia", "Lucas", "Zoe", "Ethan", "Ivy", "Omar", "Grace"]
LAST = ["Nguyen", "Garcia", "Kowalski", "Haddad", "Brown"]
SOURCES = ["website", "zillow", "referral", "open house", "facebook"]


def demo_contacts() -> list[dict[str, str]]:
    rows = []
    for i in range(50):
        first, last = FIRST[i % len(FIRST)], LAST[i // len(FIRST)]
        rows.append(
            {
                "name": f"{first} {last}",
                # 555-0100..0199 are reserved for fiction in North America.
                "phone": f"+1 202 555 {100 + i:04d}",
                "email": f"{first}.{last}@example.com".lower(),
                "source": SOURCES[i % len(SOURCES)],
            }
        )
    return rows


class Command(BaseCommand):
    help = "Load demo data (one company, its people and 50 contacts) and print the logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never in production)."
        )

    def handle(self, *args, force: bool = False, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to load demo data with DEBUG off: this looks like production. "
                "Use --force if you really mean it."
            )
        with transaction.atomic():
            company, _ = Company.objects.get_or_create(
                name=DEMO_COMPANY,
                defaults={"time_zone": "America/New_York", "default_region": "US"},
            )
            created_people = 0
            for email, full_name, level in DEMO_PEOPLE:
                agent = Agent.objects.filter(email=email).first()
                if agent is None:
                    agent = Agent.objects.create_user(
                        email=email,
                        password=DEMO_PASSWORD,
                        full_name=full_name,
                        access_level=level,
                        presence=Presence.AVAILABLE,
                    )
                    created_people += 1
                agent.companies.add(company)

            created_contacts = 0
            for row in demo_contacts():
                phone = normalise_phone(row["phone"], region=company.default_region)
                if Contact.objects.filter(company=company, phone=phone).exists():
                    continue
                contact_create(company=company, actor=None, **row)
                created_contacts += 1

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo company “{company.name}”: {created_people} people and "
                f"{created_contacts} contacts added (the rest were already there)."
            )
        )
        self.stdout.write("")
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD})")
        for email, full_name, level in DEMO_PEOPLE:
            self.stdout.write(f"  {AccessLevel(level).label:<12} {email:<28} {full_name}")
