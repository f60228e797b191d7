"""A resolve's message and timeline row read right for every sales disposition: Resolve
closes a lead with a sales disposition and no order, so "without a sale: Sold" was wrong."""

import pytest
from django.urls import reverse

from agents.centers.models import Disposition
from contacts.models import TimelineEntry
from demo.centers import DISPOSITIONS
from leads.services import lead_assign

# Every sales disposition of the demo, and the tests' own ("Sold" in tests/leads/conftest.py).
SALES = sorted({name for items in DISPOSITIONS.values() for name, is_sales in items if is_sales})


@pytest.mark.parametrize("name", SALES)
def test_the_resolve_message_and_timeline_row_name_the_disposition_and_agree(
    login, company, leads_agent, center, make_customer, make_order, name
):
    # given an open lead and a sales disposition
    disposition = Disposition.objects.create(center=center, name=name, is_sales=True)
    customer = make_customer("Mia Haddad")
    make_order(customer)
    lead = lead_assign(company=company, contact=customer, agent=leads_agent, actor=None)
    # when the agent resolves it with that disposition
    response = login(leads_agent).post(
        reverse("leads:resolve", args=[lead.pk]), {"disposition": disposition.pk}, follow=True
    )
    # then the flash and the timeline row say the same thing, and never "without a sale"
    body = response.content.decode()
    assert f"Resolved Mia Haddad with disposition “{name}”." in body
    row = TimelineEntry.objects.get(contact=customer, kind=TimelineEntry.Kind.LEAD_RESOLVED)
    assert row.message == f"Lead resolved by {leads_agent} with disposition “{name}”."
    assert "without a sale" not in body and "without a sale" not in row.message


def test_the_demo_has_sales_dispositions_to_test():
    assert "Sold" in SALES and len(SALES) >= 2
