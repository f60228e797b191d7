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
