"""Every other event type, from the real service call: contacts created and deleted,
reassignment rounds, inbound interactions routed, leads, campaign records. Each is written in
the transaction of its change and only when some endpoint of the company hears its type."""

from decimal import Decimal

import pytest
from django.db import transaction

from agents.centers.models import Disposition
from agents.centers.services import center_add_members
from agents.models import AccessLevel
from campaigns.models import Entry
from campaigns.services import campaign_start
from campaigns.work import entry_call, entry_disposition, entry_next, entry_skip
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from events.models import Event, EventType
from leads.models import Order, Product
from leads.orders import Line, order_create
from leads.services import lead_assign, lead_resolve, lead_unassign, leads_assign_bulk
from routing.inbound import inbound_receive
from routing.models import GroupMember, ReassignmentGroup, Round
from routing.rounds import contacts_delete, offer_claim, reassignment_start, round_expire
from tests.agents.factories_centers import ContactCenterFactory, DeviceFactory
from tests.campaigns.helpers import make_campaign, queue_with
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_delivery(monkeypatch):
    # Delivery is another helper's work: these tests check what is written.
    monkeypatch.setattr("events.emit._dispatch_after_commit", lambda company_id: None)


@pytest.fixture
def listening(company):
    company.outbound_event_types = [t.value for t in EventType]
    company.save()
    return company


def _ref(agent):
    return {"id": agent.pk, "email": agent.email, "name": str(agent)}


def _events(type):
    return list(Event.objects.filter(type=type).order_by("pk"))


def _contact(company, n=0, **kwargs):
    return contact_create(
        company=company, actor=None, name=f"Client {n}", phone=f"+1202555{n:04d}", **kwargs
    )


# --- Contacts ---------------------------------------------------------------------------------
def test_creating_a_contact_writes_contact_created_by_the_person(listening, company_admin):
    # when an admin creates a contact
    contact = contact_create(
        company=listening,
        actor=company_admin,
        name="Jane Roe",
        phone="(202) 555-0123",
        email="jane@example.com",
        source="website",
    )

    # then its event carries it as stored, by the admin, at version 0
    (event,) = _events(EventType.CONTACT_CREATED)
    assert (event.contact_id, event.version) == (contact.pk, 0)
    assert event.data["contact"] == {
        "id": contact.pk,
        "name": "Jane Roe",
        "phone": "+12025550123",
        "email": "jane@example.com",
        "source": "website",
    }
    assert event.data["actor"]["id"] == company_admin.pk


def test_nobody_listening_means_no_event_for_any_change(company):
    # given a company whose endpoints hear nothing
    assert company.outbound_event_types == []

    # when contacts are created, texted and deleted
    contact = _contact(company)
    inbound_receive(company=company, channel="text", phone="+12025550999", body="hi")
    contacts_delete(company=company, contact_ids=[contact.pk])

    # then no event exists
    assert not Event.objects.exists()


def test_deleting_contacts_writes_contact_deleted_with_who_owned_them(listening, company_admin):
    # given two contacts, one owned by Ava
    ava = AgentFactory(companies=[listening])
    owned, bare = _contact(listening, 1), _contact(listening, 2)
    contact_assign_primary_agent(contact=owned, agent=ava, actor=None)

    # when an admin deletes both
    contacts_delete(company=listening, contact_ids=[owned.pk, bare.pk], actor=company_admin)

    # then each has its event (the contact as it was), by the admin
    events = _events(EventType.CONTACT_DELETED)
    assert [(e.contact_id, e.version) for e in events] == [(owned.pk, 1), (bare.pk, 0)]
    assert events[0].data["contact"] == {
        "id": owned.pk,
        "name": "Client 1",
        "phone": "+12025550001",
    }
    assert events[0].data["primary_agent"] == _ref(ava)
    assert events[1].data["primary_agent"] is None
    assert {e.data["actor"]["id"] for e in events} == {company_admin.pk}


def test_a_delete_that_rolled_back_leaves_no_event(listening):
    # given a contact
    contact = _contact(listening)

    # when its deletion is rolled back
    with pytest.raises(RuntimeError), transaction.atomic():
        contacts_delete(company=listening, contact_ids=[contact.pk])
        raise RuntimeError("the caller fails")

    # then there is no contact.deleted event
    assert _events(EventType.CONTACT_DELETED) == []


# --- Reassignment rounds ----------------------------------------------------------------------
def _group(company, members, method, **kwargs):
    group = ReassignmentGroup.objects.create(
        company=company, name="Closers", method=method, **kwargs
    )
    for member in members:
        GroupMember.objects.create(group=group, agent=member)
    return group


def test_a_round_writes_started_and_finished_with_the_agent_picked(listening, supervisor):
    # given a contact of Ava and a round-robin group of Ben
    ava, ben = AgentFactory(companies=[listening]), AgentFactory(companies=[listening])
    online(ava, ben)
    contact = _contact(listening)
    contact_assign_primary_agent(contact=contact, agent=ava, actor=None)
    group = _group(listening, [ben], "round_robin")

    # when a supervisor re-assigns it through the group
    round_ = reassignment_start(contact=contact, group=group, actor=supervisor)

    # then the round's start names the group and the owner, its end the agent picked and why
    (started,) = _events(EventType.REASSIGNMENT_STARTED)
    assert started.data["round"] == {"id": round_.pk}
    assert started.data["contact"]["id"] == contact.pk
    assert started.data["source"] == {
        "type": "group",
        "id": group.pk,
        "name": "Closers",
        "method": "round_robin",
    }
    assert started.data["from"] == _ref(ava)
    assert started.data["handover"] is False
    assert started.data["actor"]["id"] == supervisor.pk
    (finished,) = _events(EventType.REASSIGNMENT_FINISHED)
    assert finished.data["outcome"] == "assigned"
    assert finished.data["agent"] == _ref(ben)
    assert finished.data["default_assignee"] is False
    assert "round robin" in finished.data["reason"]
    # in the contact's order: started, owner changed, finished
    owner = _events(EventType.CONTACT_OWNER_CHANGED)[-1]
    assert started.pk < owner.pk < finished.pk
    assert (started.version, owner.version, finished.version) == (1, 2, 2)


def test_a_round_nobody_claims_finishes_with_the_default_assignee(listening):
    # given a first-to-claim group of Ben with Dana as its default assignee
    ben, dana = AgentFactory(companies=[listening]), AgentFactory(companies=[listening])
    online(ben, dana)
    contact = _contact(listening)
    group = _group(listening, [ben], "first_to_claim", default_assignee=dana)
    round_ = reassignment_start(contact=contact, group=group, actor=None)
    assert _events(EventType.REASSIGNMENT_FINISHED) == []  # open: offered to Ben

    # when the claim window passes
    Round.objects.filter(pk=round_.pk).update(deadline_at="2000-01-01T00:00:00Z")
    round_expire(round_id=round_.pk)

    # then it finished with the default assignee, and says why
    (finished,) = _events(EventType.REASSIGNMENT_FINISHED)
    assert finished.data["outcome"] == "fallback"
    assert finished.data["default_assignee"] is True
    assert finished.data["agent"] == _ref(dana)
    assert "claimed it within" in finished.data["reason"]


def test_a_claimed_round_finishes_claimed_by_the_claimer(listening):
    # given an open first-to-claim round offered to Ben
    ben = AgentFactory(companies=[listening])
    online(ben)
    contact = _contact(listening)
    group = _group(listening, [ben], "first_to_claim")
    round_ = reassignment_start(contact=contact, group=group, actor=None)

    # when Ben claims it
    offer_claim(offer_id=round_.offers.get(agent=ben).pk, agent=ben)

    # then the round finished claimed, by Ben
    (finished,) = _events(EventType.REASSIGNMENT_FINISHED)
    assert (finished.data["outcome"], finished.data["agent"]) == ("claimed", _ref(ben))


# --- Inbound interactions ---------------------------------------------------------------------
def test_a_text_to_an_available_owner_is_routed_to_the_owner(listening):
    # given a contact owned by Ava, available
    ava = AgentFactory(companies=[listening])
    online(ava)
    contact = _contact(listening, 5)
    contact_assign_primary_agent(contact=contact, agent=ava, actor=None)

    # when a text comes in from its number
    interaction, _ = inbound_receive(
        company=listening, channel="text", phone="+1 202 555 0005", body="hello"
    )

    # then the event says it went to the owner
    (event,) = _events(EventType.INTERACTION_ROUTED)
    assert event.data["interaction"] == {"id": interaction.pk, "channel": "text"}
    assert event.data["to"] == {"type": "owner", "agent": _ref(ava)}
    assert event.data["contact"]["id"] == contact.pk
    assert event.data["new_contact"] is False
    assert "primary agent" in event.data["reason"]
    assert event.data["actor"] == {"type": "switchboard"}
    assert (event.contact_id, event.version) == (contact.pk, 1)


def test_a_text_from_a_new_number_goes_to_the_active_pool(listening):
    # when a text comes in from an unknown number
    interaction, _ = inbound_receive(
        company=listening, channel="text", phone="+12025550777", body="hi"
    )

    # then the contact is created (its own event) and the text routed to Active
    (created,) = _events(EventType.CONTACT_CREATED)
    (event,) = _events(EventType.INTERACTION_ROUTED)
    assert created.contact_id == event.contact_id == interaction.contact_id
    assert created.pk < event.pk
    assert event.data["to"] == {"type": "pool", "pool": "active"}
    assert event.data["new_contact"] is True


def test_a_call_for_a_center_is_routed_to_its_ring_list(listening):
    # given a center with one available member with a ringing device
    center = ContactCenterFactory(company=listening, name="Help Desk")
    ava = AgentFactory(companies=[listening], full_name="Ava Agent")
    online(ava)
    DeviceFactory(agent=ava, ring=True, label="mobile")
    center_add_members(center=center, agents=[ava], actor=None)

    # when a call for the center comes in
    inbound_receive(
        company=listening, channel="call", phone="+12025550888", contact_center="Help Desk"
    )

    # then the event names the center and who rings, in order
    (event,) = _events(EventType.INTERACTION_ROUTED)
    assert event.data["to"] == {
        "type": "ring_list",
        "center": {"id": center.pk, "name": "Help Desk"},
        "agents": [{"email": ava.email, "name": "Ava Agent", "order": 1}],
        "queued": False,
    }


# --- Leads ------------------------------------------------------------------------------------
@pytest.fixture
def customer(listening):
    product = Product.objects.create(company=listening, name="Valuation", price=Decimal("100"))
    contact = _contact(listening, 9)
    order_create(
        company=listening,
        contact=contact,
        actor=None,
        status=Order.Status.PARTIAL,
        lines=[Line(product=product, quantity=1)],
    )
    contact.product = product
    return contact


@pytest.fixture
def leo(listening):
    return AgentFactory(
        access_level=AccessLevel.LEADS_AGENT, companies=[listening], full_name="Leo Leads"
    )


def test_assigning_and_unassigning_a_lead_writes_their_events(
    listening, customer, leo, company_admin
):
    # when an admin assigns the customer's lead to Leo, then unassigns it
    lead = lead_assign(company=listening, contact=customer, agent=leo, actor=company_admin)
    lead_unassign(lead=lead, actor=company_admin)

    # then both events name the lead, the customer and Leo, by the admin
    (assigned,) = _events(EventType.LEAD_ASSIGNED)
    (unassigned,) = _events(EventType.LEAD_UNASSIGNED)
    for event in (assigned, unassigned):
        assert event.data["lead"] == {"id": lead.pk}
        assert event.data["contact"]["id"] == customer.pk
        assert event.data["agent"] == _ref(leo)
        assert event.data["actor"]["id"] == company_admin.pk
        assert event.contact_id == customer.pk
    assert assigned.pk < unassigned.pk


def test_resolving_a_lead_says_resolved_with_its_disposition(listening, customer, leo):
    # given Leo's lead and a sales disposition
    center = ContactCenterFactory(company=listening, name="Sales")
    sold = Disposition.objects.create(center=center, name="Sold", is_sales=True)
    lead = lead_assign(company=listening, contact=customer, agent=leo, actor=None)

    # when Leo resolves it
    lead_resolve(lead=lead, disposition=sold, actor=leo)

    # then the event says resolved, with the disposition
    (event,) = _events(EventType.LEAD_RESOLVED)
    assert event.data["outcome"] == "resolved"
    assert event.data["disposition"] == {"id": sold.pk, "name": "Sold"}
    assert event.data["order"] is None
    assert event.data["actor"]["id"] == leo.pk


def test_a_complete_order_resolves_the_lead_as_won(listening, customer, leo):
    # given Leo's lead
    lead_assign(company=listening, contact=customer, agent=leo, actor=None)

    # when the customer's next order is Complete
    order = order_create(
        company=listening,
        contact=customer,
        actor=None,
        status=Order.Status.COMPLETE,
        lines=[Line(product=customer.product, quantity=1)],
    )

    # then the lead is resolved as won, by that order
    (event,) = _events(EventType.LEAD_RESOLVED)
    assert event.data["outcome"] == "won"
    assert event.data["order"] == {"id": order.pk, "number": order.number}
    assert event.data["agent"] == _ref(leo)


def test_a_batch_assign_of_leads_is_one_event_each_as_a_bulk_assign(listening, leo):
    # given three Partial customers
    product = Product.objects.create(company=listening, name="Valuation", price=Decimal("100"))
    customers = [_contact(listening, 20 + n) for n in range(3)]
    for contact in customers:
        order_create(
            company=listening,
            contact=contact,
            actor=None,
            status=Order.Status.PARTIAL,
            lines=[Line(product=product, quantity=1)],
        )

    # when they are assigned to Leo at once
    outcome = leads_assign_bulk(
        company=listening, contact_ids=[c.pk for c in customers], agent=leo, actor=None
    )

    # then each lead has its event, marked as one mass change
    assert len(outcome.changed) == 3
    events = _events(EventType.LEAD_ASSIGNED)
    assert sorted(e.contact_id for e in events) == sorted(c.pk for c in customers)
    assert {e.data["mass_change"] for e in events} == {"bulk_assign"}


# --- Campaign records -------------------------------------------------------------------------
def test_handling_campaign_records_writes_called_skipped_and_dispositioned(listening):
    # given a running campaign with two records for Ava
    ava = AgentFactory(email="ava@acme.test", full_name="Ava", companies=[listening])
    queue = queue_with(listening, ava)
    campaign = make_campaign(listening, queue, [("ava@acme.test", "1"), ("ava@acme.test", "2")])
    campaign_start(campaign=campaign)
    promise = Disposition.objects.get(center=queue, name="Promise to pay")

    # when she calls the first and gives it a disposition, and skips the second
    first = entry_next(campaign=campaign, agent=ava)
    entry_call(entry_id=first.pk, agent=ava)
    entry_disposition(entry_id=first.pk, agent=ava, disposition=promise)
    second = entry_next(campaign=campaign, agent=ava)
    entry_skip(entry_id=second.pk, agent=ava)

    # then one event per action, naming the campaign, the record, its contact and Ava
    events = _events(EventType.CAMPAIGN_RECORD_HANDLED)
    assert [e.data["action"] for e in events] == ["called", "dispositioned", "skipped"]
    called, dispositioned, skipped = events
    assert called.data["campaign"] == {"id": campaign.pk, "name": "Q2 collections"}
    assert called.data["record"] == {"id": first.record_id, "entry": first.pk}
    assert called.data["agent"] == _ref(ava)
    assert called.data["actor"]["id"] == ava.pk
    assert dispositioned.data["disposition"] == {
        "id": promise.pk,
        "name": "Promise to pay",
        "sales": False,
    }
    assert dispositioned.data["callback_at"] is None
    assert skipped.data["record"]["entry"] == second.pk
    assert called.contact_id == dispositioned.contact_id == called.data["contact"]["id"]
    assert Entry.objects.get(pk=first.pk).state == Entry.State.HANDLED
