from decimal import Decimal

import pytest

from agents.centers.models import ContactCenter, Disposition
from agents.models import AccessLevel
from contacts.services import contact_create
from leads.models import LeadsSettings, Order, Product
from leads.orders import Line, order_create
from tests.factories import AgentFactory


@pytest.fixture
def product(company):
    return Product.objects.create(company=company, name="Valuation", price=Decimal("100.00"))


@pytest.fixture
def center(company):
    return ContactCenter.objects.create(company=company, name="Sales floor")


@pytest.fixture
def sold(center):
    return Disposition.objects.create(center=center, name="Sold", is_sales=True)


@pytest.fixture
def no_answer(center):
    return Disposition.objects.create(center=center, name="No answer", is_sales=False)


@pytest.fixture
def leads_agent_2(company):
    return AgentFactory(
        access_level=AccessLevel.LEADS_AGENT,
        companies=[company],
        email="leo@acme.test",
        full_name="Leo Second",
    )


@pytest.fixture
def make_customer(company):
    counter = {"n": 0}

    def _make(name: str | None = None, *, company_=None, **kwargs):
        counter["n"] += 1
        n = counter["n"]
        return contact_create(
            company=company_ or company,
            actor=None,
            name=name or f"Customer {n}",
            phone=f"+1 202 555 {1000 + n:04d}",
            email=f"customer{n}@example.com",
        )

    return _make


@pytest.fixture
def make_order(product):
    def _order(contact, status=Order.Status.PARTIAL, *, actor=None, quantity=1, number=""):
        item = product
        if contact.company_id != product.company_id:
            item, _ = Product.objects.get_or_create(
                company_id=contact.company_id, name="Valuation", defaults={"price": 100}
            )
        return order_create(
            company=contact.company,
            contact=contact,
            actor=actor,
            status=status,
            lines=[Line(product=item, quantity=quantity)],
            number=number,
        )

    return _order


@pytest.fixture
def settings_for(company):
    def _set(**values):
        row, _ = LeadsSettings.objects.get_or_create(company=company)
        for key, value in values.items():
            setattr(row, key, value)
        row.save()
        return row

    return _set
