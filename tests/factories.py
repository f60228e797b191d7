import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from agents.models import AccessLevel, Agent, Company, Presence
from contacts.models import Contact
from contacts.ownership import contact_assign_primary_agent

PASSWORD = "correct-horse-battery"


class CompanyFactory(DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Company {n}")
    time_zone = "America/New_York"
    default_region = "US"


class AgentFactory(DjangoModelFactory):
    class Meta:
        model = Agent
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"agent{n}@example.test")
    full_name = factory.Faker("name")
    access_level = AccessLevel.AGENT
    presence = Presence.AVAILABLE
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def companies(self, create, extracted, **kwargs):
        if create and extracted:
            self.companies.add(*extracted)


class ContactFactory(DjangoModelFactory):
    """A bare contact row; tests of history create contacts through the services instead."""

    class Meta:
        model = Contact
        skip_postgeneration_save = True

    company = factory.SubFactory(CompanyFactory)
    name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"+1202555{n % 10000:04d}")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    source = "website"

    @factory.post_generation
    def primary_agent(self, create, extracted, **kwargs):
        # Through the one ownership path, so counters, version and timeline are as in life.
        if create and extracted is not None:
            contact_assign_primary_agent(contact=self, agent=extracted, actor=None)


def online(*agents, presence: str = Presence.AVAILABLE):
    """Set the agents' presence as if they had just used the Lead Center; returns the first."""
    for agent in agents:
        agent.presence = presence
        agent.last_seen_at = timezone.now()
        agent.save()
    return agents[0] if agents else None
