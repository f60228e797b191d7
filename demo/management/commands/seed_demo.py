"""Load the demo company: an admin, a supervisor, five agents, a leads agent, 50 contacts,
an API key with every scope (no outbound webhook endpoint: nothing is sent anywhere), and
availability (demo/availability.py: an absence with a cover, a text deadline, a full agent).

Safe to run again: it creates what is missing and changes nothing else.
"""

from django.conf import settings
from django.conf import settings as django_settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from agents.models import AccessLevel, Agent, Company, Presence
from agents.phone import normalise_phone
from agents.services import company_set_webhook_token
from contacts.models import Contact
from contacts.ownership import contacts_assign_primary_agent_bulk
from contacts.services import contact_create
from demo.api import seed_demo_api_key
from demo.availability import LIVE_TEXT_PHONE, seed_availability
from demo.campaigns import seed_campaigns
from demo.centers import seed_centers
from demo.leads import seed_leads
from routing.inbound import inbound_receive
from routing.models import GroupMember, ReassignmentGroup, RoutingRule, RuleMember

DEMO_COMPANY = "Northwind Realty"
DEMO_PASSWORD = "switchboard-demo"  # noqa: S105 - printed for the demo on purpose
DEMO_WEBHOOK_TOKEN = "sbw_demo_northwind_only_for_the_demo"  # noqa: S105 - the demo's, printed

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
DEMO_INBOUND = [
    ("+1 202 555 0100", "Hi! Is the flat on Elm Street still available?", "text"),
    ("+1 202 555 0113", "Could we move Saturday's viewing to 11am?", "text"),
    ("+1 202 555 0145", "Form: I'd like a valuation of my house.", "form"),
    ("+1 202 555 0146", "Hello, I saw your ad — who should I talk to?", "text"),
    ("+1 202 555 0101", "", "call"),
]


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


def demo_api_curl(api_key: str) -> str:
    """The one ``curl`` line that ``seed_demo`` and ``make run`` print."""
    url = django_settings.SITE_URL + "/api/v1/contacts/?limit=5"
    return f"curl -H 'Authorization: Bearer {api_key}' '{url}'"


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
        # No transaction around the whole: each service takes its locks in a transaction of
        # its own, in the one lock order (agents/lockorder.py), which one transaction taking
        # contacts, then centers, leads and campaigns would break. Every step keeps what is
        # there already, so a run stopped half-way is completed by the next one.
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

        # Primary agents, unevenly spread so the workload page has something to show;
        # the last 8 contacts have none. Only contacts without one are touched.
        agents = list(
            Agent.objects.filter(companies=company, access_level=AccessLevel.AGENT).order_by(
                "email"
            )
        )
        shares = [12, 10, 8, 7, 5]
        contacts = list(
            Contact.objects.filter(company=company, source__in=SOURCES).order_by("phone")
        )
        start = 0
        for agent, share in zip(agents, shares, strict=False):
            chunk = [c.pk for c in contacts[start : start + share] if c.primary_agent_id is None]
            start += share
            if chunk:
                contacts_assign_primary_agent_bulk(
                    company=company,
                    contact_ids=chunk,
                    agent=agent,
                    actor=None,
                    reason="demo data",
                )
        # Routing: two reassignment groups and a rule for new Zillow contacts.
        admin = Agent.objects.get(email="admin@northwind.test")
        if not admin.can_manage_routing:
            admin.can_manage_routing = True
            admin.save()
        supervisor = Agent.objects.get(email="supervisor@northwind.test")
        closers, _ = ReassignmentGroup.objects.get_or_create(
            company=company,
            name="Closers",
            defaults={
                "method": "first_to_claim",
                "claim_window_minutes": 5,
                "default_assignee": supervisor,
            },
        )
        team, _ = ReassignmentGroup.objects.get_or_create(
            company=company, name="Whole team", defaults={"method": "round_robin"}
        )
        zillow, _ = RoutingRule.objects.get_or_create(
            company=company,
            name="Zillow leads",
            defaults={"sources": "zillow", "method": "round_robin", "position": 1},
        )
        for agent in agents:
            GroupMember.objects.get_or_create(group=team, agent=agent)
            RuleMember.objects.get_or_create(rule=zillow, agent=agent)
        for agent in agents[:3]:
            GroupMember.objects.get_or_create(group=closers, agent=agent)
        # Contact centers: a skills-based and a round-robin one, with roles and devices.
        people = {a.email: a for a in Agent.objects.filter(companies=company)}
        seed_centers(company, people)
        seed_leads(company, people)
        seed_campaigns(company, people)
        company_set_webhook_token(company=company, token=DEMO_WEBHOOK_TOKEN)
        api_key, _ = seed_demo_api_key(company, created_by=admin)
        for n, (phone, body, channel) in enumerate(DEMO_INBOUND, start=1):
            inbound_receive(
                company=company,
                channel=channel,
                phone=phone,
                body=body,
                source="demo",
                idempotency_key=f"demo-{n}",
            )
        availability = seed_availability(company, people)

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo company “{company.name}” is ready ({created_people} people and "
                f"{created_contacts} contacts added this time; what was there is kept)."
            )
        )
        self.stdout.write("")
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD})")
        for email, full_name, level in DEMO_PEOPLE:
            self.stdout.write(f"  {AccessLevel(level).label:<12} {email:<28} {full_name}")
        endpoint = django_settings.SITE_URL + reverse("inbound")
        self.stdout.write("")
        self.stdout.write(f"Inbound webhook token of {company.name}: {DEMO_WEBHOOK_TOKEN}")
        self.stdout.write(
            "Send a text from a known contact (its primary agent gets it if available):"
        )
        self.stdout.write(
            f"  curl -X POST {endpoint} -H 'Authorization: Bearer {DEMO_WEBHOOK_TOKEN}' "
            "-H 'Content-Type: application/json' "
            """-d '{"channel": "text", "phone": "+1 202 555 0100", """
            """"body": "Is the flat still free?"}'"""
        )
        self.stdout.write(
            "Send a billing call to the skills-based Northwind Support center; the answer's "
            "ring list puts Ava (90) before Ben (60) — those ranked for billing who are "
            "logged in, Available and at work, with a ringing device (Chloe, ranked 30, is out "
            "of office; Sam Supervisor has no billing rank: neither is rung):"
        )
        self.stdout.write(
            f"  curl -X POST {endpoint} -H 'Authorization: Bearer {DEMO_WEBHOOK_TOKEN}' "
            "-H 'Content-Type: application/json' "
            """-d '{"channel": "call", "phone": "+1 202 555 0101", """
            """"contact_center": "Northwind Support", "call_type": "billing"}'"""
        )
        self.stdout.write("")
        for line in availability:
            self.stdout.write(line)
        self.stdout.write(
            f"  curl -X POST {endpoint} -H 'Authorization: Bearer {DEMO_WEBHOOK_TOKEN}' "
            "-H 'Content-Type: application/json' "
            f"""-d '{{"channel": "text", "phone": "{LIVE_TEXT_PHONE}", """
            """"body": "Hi Chloe, is the loft still free?"}'"""
        )
        self.stdout.write("")
        self.stdout.write(
            f"API key of {company.name} (every scope; kept in var/demo-api-key): {api_key}"
        )
        self.stdout.write("List the first five contacts through the API (docs/api.md):")
        self.stdout.write(f"  {demo_api_curl(api_key)}")
