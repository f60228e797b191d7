"""The one lead path closes 1..N leads in a constant number of queries."""

import pytest

from contacts.models import TimelineEntry
from leads.models import Lead, Order
from leads.services import Change, lead_assign, leads_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_leads(company, leads_agent, leads_agent_2, make_customer, make_order):
    """``n`` open leads, shared between two leads agents."""

    def _make(n: int) -> list[Lead]:
        leads = []
        for i in range(n):
            customer = make_customer()
            make_order(customer)
            agent = leads_agent if i % 2 else leads_agent_2
            leads.append(lead_assign(company=company, contact=customer, agent=agent, actor=None))
        return leads

    return _make


@pytest.fixture
def complete_order(company, make_customer, make_order):
    return make_order(make_customer("Buyer"), Order.Status.COMPLETE, number="A-1")


# Breakdown, whatever the number of leads (up to a lock chunk):
#   savepoint + release (leads_change is atomic, inside the test's transaction)   2
#   lock the customers                                                            1
#   lock their open leads                                                         1
#   the customers' company ids (for the timeline rows)                            1
#   the leads' agents (named in the timeline rows)                                1
#   one UPDATE of the leads                                                       1
#   one INSERT of the timeline rows                                               1
CLOSE_QUERIES = 8


@pytest.mark.parametrize("change", [Change.UNASSIGN, Change.RESOLVE, Change.WIN])
def test_closing_twenty_leads_takes_as_many_queries_as_closing_one(
    company, company_admin, sold, complete_order, open_leads, change, django_assert_num_queries
):
    # given one lead, and twenty more
    for n in (1, 20):
        leads = open_leads(n)
        extra = {
            Change.RESOLVE: {"disposition": sold},
            Change.WIN: {"order": complete_order},
        }.get(change, {})
        # when they are closed in one call, then the query count is the same
        with django_assert_num_queries(CLOSE_QUERIES):
            outcome = leads_change(
                company=company,
                contact_ids=[lead.contact_id for lead in leads],
                change=change,
                actor=company_admin,
                **extra,
            )
        # and every lead is closed, with its timeline row naming its agent
        assert len(outcome.changed) == n and not outcome.skipped
        closed = Lead.objects.filter(pk__in=[lead.pk for lead in leads])
        status = {
            Change.UNASSIGN: Lead.Status.UNASSIGNED,
            Change.RESOLVE: Lead.Status.RESOLVED,
            Change.WIN: Lead.Status.WON,
        }[change]
        assert {(lead.status, lead.resolved_by_id) for lead in closed} == {
            (status, company_admin.pk)
        }
        kind = f"lead_{status}"
        for lead in leads:
            entry = TimelineEntry.objects.get(contact_id=lead.contact_id, kind=kind)
            assert entry.agent_id == lead.agent_id
            assert entry.details["lead"] == lead.pk
            if change is not Change.RESOLVE:
                assert str(lead.agent) in entry.message
