"""Races on PostgreSQL (real threads): two paths that meet on the same customers."""

import threading

import pytest
from django.db import connection

from leads.models import Lead, Order
from leads.services import leads_assign_bulk

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(*calls):
    errors, barrier = [], threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait()
            call()
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_two_batch_assigns_on_overlapping_customers_leave_one_open_lead_each(
    company, company_admin, leads_agent, leads_agent_2, make_customer, make_order
):
    customers = [make_customer() for _ in range(40)]
    for c in customers:
        make_order(c)
    ids = [c.pk for c in customers]
    errors = _race(
        lambda: leads_assign_bulk(company=company, contact_ids=ids, agent=leads_agent, actor=None),
        lambda: leads_assign_bulk(
            company=company, contact_ids=list(reversed(ids)), agent=leads_agent_2, actor=None
        ),
    )
    assert errors == []
    open_leads = Lead.objects.filter(status="open")
    assert open_leads.count() == 40
    assert len({lead.contact_id for lead in open_leads}) == 40


def test_a_complete_order_racing_an_assignment_never_leaves_an_open_lead_on_a_won_sale(
    company, leads_agent, make_customer, make_order
):
    customers = [make_customer() for _ in range(20)]
    for c in customers:
        make_order(c)
    ids = [c.pk for c in customers]
    errors = _race(
        lambda: leads_assign_bulk(company=company, contact_ids=ids, agent=leads_agent, actor=None),
        lambda: [make_order(c, Order.Status.COMPLETE) for c in customers],
    )
    assert errors == []
    # Whichever came first: assigned then won, or Complete first (then not Partial).
    assert not Lead.objects.filter(status="open").exists()
    assert Order.objects.filter(is_latest=True, status="complete").count() == 20
