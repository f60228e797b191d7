import factory
from factory.django import DjangoModelFactory

from agents.centers.models import ContactCenter, Device, PhoneNumber
from tests.factories import CompanyFactory


class ContactCenterFactory(DjangoModelFactory):
    class Meta:
        model = ContactCenter

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Center {n}")


class DeviceFactory(DjangoModelFactory):
    class Meta:
        model = Device

    kind = Device.Kind.MOBILE
    ring = True


class PhoneNumberFactory(DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    number = factory.Sequence(lambda n: f"+1202555{n % 10000:04d}")


def live_call(center, agent, *, name: str = "Caller"):
    """A call of ``center`` that ``agent`` took and has not handled yet (a live call: what a
    supervisor may listen in on)."""
    from django.utils import timezone

    from contacts.models import Interaction
    from tests.factories import ContactFactory

    contact = ContactFactory(company=center.company, name=name)
    return Interaction.objects.create(
        company=center.company,
        contact=contact,
        channel="call",
        center=center,
        ring=[{"agent": agent.email, "name": str(agent), "order": 1, "devices": []}],
        routed_to=agent,
        taken_by=agent,
        taken_at=timezone.now(),
        route_reason="Rang the center.",
    )
