"""The one lead path: gates, one open lead per customer, timeline rows, the email, resolve
and auto-win."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agents.centers.models import ContactCenter, Disposition
from agents.models import AccessLevel
from contacts.models import TimelineEntry
from leads.emails import lead_email_send
from leads.models import Lead, LeadEmail, Order, Product
from leads.orders import product_save
from leads.services import Skip, lead_assign, lead_resolve, lead_unassign, leads_assign_bulk
from tests.factories import AgentFactory


def test_a_customer_whose_latest_order_is_partial_becomes_a_lead_with_a_timeline_row(
    company, company_admin, leads_agent, make_customer, make_order
):
    # given a customer whose most recent order is Partial
    olivia = make_customer("Olivia")
    make_order(olivia, Order.Status.PARTIAL)
    # when an admin assigns her to the leads agent
    lead = lead_assign(company=company, contact=olivia, agent=leads_agent, actor=company_admin)
    # then the lead is open, and her timeline says who assigned it to whom
    assert (lead.status, lead.agent, lead.assigned_by) == ("open", leads_agent, company_admin)
    entry = olivia.timeline.get(kind=TimelineEntry.Kind.LEAD_ASSIGNED)
    assert entry.message == f"Lead assigned to {leads_agent} by {company_admin}."
    assert entry.agent == leads_agent and entry.details["lead"] == lead.pk


@pytest.mark.parametrize(
    "history", [[], ["complete"], ["partial", "complete"], ["declined"], ["partial", "refunded"]]
)
def test_the_partial_gate_refuses_a_customer_whose_latest_order_is_not_partial(
    company, company_admin, leads_agent, make_customer, make_order, history
):
    # given a customer whose latest order is not Partial (or who has no order)
    liam = make_customer("Liam")
    for status in history:
        make_order(liam, status)
    # when assigned, then refused with a sentence, and nothing is written
    with pytest.raises(ValidationError, match="most recent order is not Partial"):
        lead_assign(company=company, contact=liam, agent=leads_agent, actor=company_admin)
    assert not Lead.objects.exists()
    assert not liam.timeline.filter(kind=TimelineEntry.Kind.LEAD_ASSIGNED).exists()


def test_a_partial_order_after_a_complete_one_makes_the_customer_a_lead_again(
    company, leads_agent, make_customer, make_order
):
    mia = make_customer("Mia")
    make_order(mia, Order.Status.COMPLETE)
    make_order(mia, Order.Status.PARTIAL)
    assert lead_assign(company=company, contact=mia, agent=leads_agent, actor=None).pk


@pytest.mark.parametrize("who", ["agent", "supervisor", "company_admin", "inactive", "foreign"])
def test_only_active_leads_agents_of_the_company_get_leads(
    request, company, other_company, make_customer, make_order, who
):
    # given a Partial customer and someone who is not an active Leads Agent of the company
    if who == "inactive":
        person = AgentFactory(
            access_level=AccessLevel.LEADS_AGENT, companies=[company], is_active=False
        )
    elif who == "foreign":
        person = AgentFactory(access_level=AccessLevel.LEADS_AGENT, companies=[other_company])
    else:
        person = request.getfixturevalue(who)
    noah = make_customer("Noah")
    make_order(noah)
    # when assigned to them, then refused
    with pytest.raises(ValidationError) as refused:
        lead_assign(company=company, contact=noah, agent=person, actor=None)
    assert "agent" in refused.value.message_dict
    with pytest.raises(ValidationError):
        leads_assign_bulk(company=company, contact_ids=[noah.pk], agent=person, actor=None)
    assert not Lead.objects.exists()


def test_the_database_holds_one_open_lead_per_customer(
    company, leads_agent, leads_agent_2, make_customer, make_order
):
    # given an open lead
    zoe = make_customer("Zoe")
    make_order(zoe)
    lead_assign(company=company, contact=zoe, agent=leads_agent, actor=None)
    # when a second open lead is written bypassing the service, then the database refuses
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.create(company=company, contact=zoe, agent=leads_agent_2)
    # and through the service it is a clear refusal
    with pytest.raises(ValidationError, match="already has an open lead"):
        lead_assign(company=company, contact=zoe, agent=leads_agent_2, actor=None)


def test_the_assignment_email_is_sent_once_after_commit(
    company,
    company_admin,
    leads_agent,
    make_customer,
    make_order,
    django_capture_on_commit_callbacks,
):
    # given two Partial customers
    a, b = make_customer("Ava Customer"), make_customer("Ben Customer")
    make_order(a)
    make_order(b)
    # when both are assigned in one call (tasks run eagerly, after commit)
    with django_capture_on_commit_callbacks(execute=True):
        leads_assign_bulk(
            company=company, contact_ids=[a.pk, b.pk], agent=leads_agent, actor=company_admin
        )
        assert mail.outbox == []  # nothing before the commit
    # then one email lists both, with links to their customer pages
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "2 leads assigned to you" and message.to == [leads_agent.email]
    assert "Ava Customer" in message.body and f"/leads/customers/{a.pk}/" in message.body
    # and a second run of the task sends nothing more
    email = LeadEmail.objects.get()
    assert email.status == "sent"
    assert lead_email_send(email_id=email.pk) == "already-sent"
    assert len(mail.outbox) == 1


def test_an_email_for_leads_closed_before_sending_is_cancelled(
    company, leads_agent, make_customer, make_order, django_capture_on_commit_callbacks
):
    c = make_customer()
    make_order(c)
    with django_capture_on_commit_callbacks(execute=False):
        lead = lead_assign(company=company, contact=c, agent=leads_agent, actor=None)
    lead_unassign(lead=lead, actor=None)
    assert lead_email_send(email_id=LeadEmail.objects.get().pk) == "cancelled"
    assert mail.outbox == []


def test_resolve_needs_a_sales_disposition_of_the_company(
    company, other_company, leads_agent, make_customer, make_order, sold, no_answer
):
    # given an open lead
    c = make_customer("Grace")
    make_order(c)
    lead = lead_assign(company=company, contact=c, agent=leads_agent, actor=None)
    foreign = Disposition.objects.create(
        center=ContactCenter.objects.create(company=other_company, name="Their center"),
        name="Their sale",
        is_sales=True,
    )
    inactive = Disposition.objects.create(
        center=sold.center, name="Old sale", is_sales=True, is_active=False
    )
    # when resolved without one, with a non-sales one, another company's or an inactive one
    for wrong in (None, no_answer, foreign, inactive):
        with pytest.raises(ValidationError) as refused:
            lead_resolve(lead=lead, disposition=wrong, actor=leads_agent)
        # then refused, saying to choose a sales disposition
        assert "sales disposition" in " ".join(refused.value.messages)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.OPEN
    # and with a sales disposition it is resolved, with a timeline row naming it
    lead_resolve(lead=lead, disposition=sold, actor=leads_agent)
    lead.refresh_from_db()
    assert (lead.status, lead.disposition, lead.resolved_by) == ("resolved", sold, leads_agent)
    assert c.timeline.get(kind="lead_resolved").message.endswith("with disposition “Sold”.")


def test_a_leads_agent_cannot_resolve_another_agents_lead(
    company, leads_agent, leads_agent_2, make_customer, make_order, sold
):
    c = make_customer()
    make_order(c)
    lead = lead_assign(company=company, contact=c, agent=leads_agent_2, actor=None)
    with pytest.raises(ValidationError, match="another Leads Agent"):
        lead_resolve(lead=lead, disposition=sold, actor=leads_agent)
    with pytest.raises(ValidationError, match="another Leads Agent"):
        lead_unassign(lead=lead, actor=leads_agent)


def test_a_complete_order_wins_the_open_lead(company, leads_agent, make_customer, make_order):
    # given an open lead
    c = make_customer("Ivy")
    make_order(c)
    lead = lead_assign(company=company, contact=c, agent=leads_agent, actor=None)
    # when the leads agent enters a Complete order for her
    order = make_order(c, Order.Status.COMPLETE, actor=leads_agent)
    # then the lead is won by that order, and the timeline shows the order then the win
    lead.refresh_from_db()
    assert (lead.status, lead.won_order) == (Lead.Status.WON, order)
    kinds = list(c.timeline.order_by("-pk").values_list("kind", flat=True)[:2])
    assert kinds == ["lead_won", "order_created"]
    # and the customer is no longer a lead (her latest order is Complete)
    with pytest.raises(ValidationError, match="not Partial"):
        lead_assign(company=company, contact=c, agent=leads_agent, actor=None)


def test_a_partial_or_declined_order_leaves_the_lead_open(
    company, leads_agent, make_customer, make_order
):
    c = make_customer()
    make_order(c)
    lead = lead_assign(company=company, contact=c, agent=leads_agent, actor=None)
    make_order(c, Order.Status.DECLINED)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.OPEN


def test_orders_keep_exactly_one_latest_per_customer(company, make_customer, make_order):
    c = make_customer()
    first = make_order(c)
    second = make_order(c, Order.Status.COMPLETE)
    assert list(Order.objects.filter(contact=c, is_latest=True)) == [second]
    first.refresh_from_db()
    assert first.number.startswith("SO-") and not first.is_latest


def test_batch_assign_counts_each_reason(
    company, company_admin, leads_agent, leads_agent_2, make_customer, make_order, sold
):
    # given customers in every situation
    fresh = [make_customer() for _ in range(3)]
    for c in fresh:
        make_order(c)
    complete = make_customer()
    make_order(complete, Order.Status.COMPLETE)
    theirs = make_customer()
    make_order(theirs)
    lead_assign(company=company, contact=theirs, agent=leads_agent_2, actor=None)
    mine = make_customer()
    make_order(mine)
    lead_assign(company=company, contact=mine, agent=leads_agent, actor=None)
    resolved = make_customer()
    make_order(resolved)
    lead = lead_assign(company=company, contact=resolved, agent=leads_agent, actor=None)
    lead_resolve(lead=lead, disposition=sold, actor=leads_agent)
    # when all are batch-assigned to the leads agent (plus an id that doesn't exist)
    outcome = leads_assign_bulk(
        company=company,
        contact_ids=[c.pk for c in [*fresh, complete, theirs, mine, resolved]] + [999_999],
        agent=leads_agent,
        actor=company_admin,
    )
    # then three are assigned and each other one is counted under its reason
    assert len(outcome.changed) == 3
    assert outcome.counts() == {
        Skip.NOT_PARTIAL: 1,
        Skip.ALREADY_ASSIGNED: 1,
        Skip.UNCHANGED: 1,
        Skip.RESOLVED: 1,
        Skip.MISSING: 1,
    }


def test_another_companys_customer_is_never_assigned(
    company, other_company, leads_agent, make_customer, make_order
):
    theirs = make_customer("Theirs", company_=other_company)
    make_order(theirs)
    outcome = leads_assign_bulk(
        company=company, contact_ids=[theirs.pk], agent=leads_agent, actor=None
    )
    assert outcome.changed == [] and outcome.skipped == {theirs.pk: Skip.MISSING}


def test_order_entry_refuses_bad_lines(company, other_company, make_customer, product):
    from leads.models import Product
    from leads.orders import Line, order_create

    c = make_customer()
    foreign = Product.objects.create(company=other_company, name="Theirs", price=1)
    for lines, message in [
        ([], "at least one product"),
        ([Line(product=foreign, quantity=1)], "not one of your products"),
        ([Line(product=product, quantity=0)], "quantity"),
        ([Line(product=product, quantity=1, unit_price=-1)], "price"),
    ]:
        with pytest.raises(ValidationError, match=message):
            order_create(company=company, contact=c, actor=None, status="partial", lines=lines)
    assert not Order.objects.exists()


def test_a_product_name_taken_meanwhile_is_refused_by_the_name_field(company, product, monkeypatch):
    # given another admin's "Valuation" stored after this save's check (the check passes)
    monkeypatch.setattr("leads.orders.product_clean", lambda **kwargs: None)
    # when the second one is saved
    with pytest.raises(ValidationError) as refused:
        product_save(product=Product(company=company, name="Valuation"))
    # then the database's constraint is said as the check says it
    assert refused.value.message_dict == {"name": ["A product named Valuation already exists."]}
    assert Product.objects.filter(company=company).count() == 1
