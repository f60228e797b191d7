"""Every event carries the actor, the method and the reason (PRODUCT.md G), with one set of
methods: manual (a person in the pages or the admin), api (a key), rule, group, handover,
inbound (an inbound interaction), campaign (a campaign record's contact). A routing rule's or
a round's decision is Switchboard's even inside an API request; mass changes are batched."""

from decimal import Decimal

import pytest

from agents.actors import KeyActor, acting_key
from agents.centers.models import Disposition
from agents.models import AccessLevel
from campaigns.services import campaign_start
from campaigns.work import entry_call, entry_disposition, entry_next
from contacts.models import Contact, TimelineEntry
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from events.delivery import deliveries_for
from events.models import Endpoint, Event, EventType
from leads.models import Order, Product
from leads.orders import Line, order_create
from leads.services import Change, lead_assign, leads_assign_bulk, leads_change
from routing.handover import agent_book_handover
from routing.inbound import inbound_receive
from routing.models import GroupMember, ReassignmentGroup, RoutingRule, RuleMember
from routing.rounds import contacts_delete, reassignment_start
from routing.rules import contact_save_routed
from tests.agents.factories_centers import ContactCenterFactory
from tests.campaigns.helpers import make_campaign, queue_with
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db

KEY = KeyActor(id=7, name="CRM sync", prefix="sb_live_ab")
SWITCHBOARD = {"type": "switchboard"}
KEY_ACTOR = {"type": "api_key", "id": 7, "name": "CRM sync", "prefix": "sb_live_ab"}


@pytest.fixture(autouse=True)
def _no_delivery(monkeypatch):
    monkeypatch.setattr("events.emit._dispatch_after_commit", lambda company_id: None)


@pytest.fixture
def listening(company):
    company.outbound_event_types = [t.value for t in EventType]
    company.save()
    return company


def _events(type):
    return list(Event.objects.filter(type=type).order_by("pk"))


def _contact(company, n=0, actor=None):
    return contact_create(
        company=company, actor=actor, name=f"Client {n}", phone=f"+1202555{n:04d}"
    )


def _form_save(company, actor=None, phone="+12025550100"):
    return contact_save_routed(
        company=company,
        contact=None,
        actor=actor,
        values={"name": "New", "phone": phone},
        primary_agent=None,
        primary_agent_changed=False,
        reason="",
    )


def _group(company, members, method, **kwargs):
    group = ReassignmentGroup.objects.create(
        company=company, name="Closers", method=method, **kwargs
    )
    for member in members:
        GroupMember.objects.create(group=group, agent=member)
    return group


def _rule(company, members):
    rule = RoutingRule.objects.create(company=company, name="Everyone", method="round_robin")
    for member in members:
        RuleMember.objects.create(rule=rule, agent=member)
    return rule


def _messages(contact, kind):
    return list(
        TimelineEntry.objects.filter(contact=contact, kind=kind)
        .order_by("pk")
        .values_list("message", flat=True)
    )


# --- contact.created / contact.deleted --------------------------------------------------------
def test_a_contact_created_says_how_manual_api_inbound_or_campaign(listening, company_admin):
    # given a running campaign with a record whose number is nobody's yet
    ava = AgentFactory(email="ava@acme.test", full_name="Ava", companies=[listening])
    queue = queue_with(listening, ava)
    campaign = make_campaign(listening, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)

    # when a contact is created by an admin, with an API key, by an inbound text, and by
    # the agent calling the campaign's record
    by_admin = _form_save(listening, actor=company_admin, phone="+12025550101")
    with acting_key(KEY):
        by_key = _form_save(listening, phone="+12025550102")
    inbound, _ = inbound_receive(company=listening, channel="text", phone="+12025550103")
    entry = entry_next(campaign=campaign, agent=ava)
    entry_call(entry_id=entry.pk, agent=ava)

    # then each contact.created says how, with an empty reason, and who
    events = {e.contact_id: e.data for e in _events(EventType.CONTACT_CREATED)}
    from_campaign = Contact.objects.exclude(
        pk__in=[by_admin.pk, by_key.pk, inbound.contact_id]
    ).get()
    said = {
        pk: (events[pk]["method"], events[pk]["reason"], events[pk]["actor"]["type"])
        for pk in events
    }
    assert said == {
        by_admin.pk: ("manual", "", "agent"),
        by_key.pk: ("api", "", "api_key"),
        inbound.contact_id: ("inbound", "", "switchboard"),
        from_campaign.pk: ("campaign", "", "agent"),
    }


def test_a_single_delete_is_manual_or_api_and_a_mass_delete_is_batched(listening, company_admin):
    # given four contacts
    a, b, c, d = (_contact(listening, n) for n in range(4))

    # when an admin deletes one, a key one, and the admin two at once
    contacts_delete(company=listening, contact_ids=[a.pk], actor=company_admin)
    with acting_key(KEY):
        contacts_delete(company=listening, contact_ids=[b.pk])
    contacts_delete(company=listening, contact_ids=[c.pk, d.pk], actor=company_admin)

    # then each event says how; the two at once are one mass change "bulk_delete"
    by_contact = {e.contact_id: e.data for e in _events(EventType.CONTACT_DELETED)}
    assert by_contact[a.pk]["method"] == "manual"
    assert by_contact[a.pk]["reason"] == ""
    assert "mass_change" not in by_contact[a.pk]
    assert (by_contact[b.pk]["method"], by_contact[b.pk]["actor"]) == ("api", KEY_ACTOR)
    assert "mass_change" not in by_contact[b.pk]
    assert {by_contact[pk]["mass_change"] for pk in (c.pk, d.pk)} == {"bulk_delete"}
    assert {by_contact[pk]["method"] for pk in (c.pk, d.pk)} == {"manual"}


# --- A routing rule's and a round's decisions are Switchboard's -------------------------------
def test_a_rule_fired_by_an_api_request_is_switchboards_doing_not_the_keys(listening):
    # given a routing rule (round robin to Ben) for every new contact
    ben = AgentFactory(companies=[listening])
    online(ben)
    _rule(listening, [ben])

    # when a contact is created with an API key (as POST /api/v1/contacts/ does)
    with acting_key(KEY):
        contact = _form_save(listening)

    # then the contact's creation is the key's, with method api
    (created,) = _events(EventType.CONTACT_CREATED)
    assert (created.data["actor"], created.data["method"]) == (KEY_ACTOR, "api")
    # and the rule's round and pick are Switchboard's, method rule
    (started,) = _events(EventType.REASSIGNMENT_STARTED)
    (owner,) = _events(EventType.CONTACT_OWNER_CHANGED)
    (finished,) = _events(EventType.REASSIGNMENT_FINISHED)
    assert [e.data["actor"] for e in (started, owner, finished)] == [SWITCHBOARD] * 3
    assert [e.data["method"] for e in (started, owner, finished)] == ["rule"] * 3
    assert finished.data["reason"] == owner.data["reason"] != ""
    assert started.data["reason"] == ""
    # and the timeline says so too: created by the key, the pick by Switchboard
    (created_row,) = _messages(contact, TimelineEntry.Kind.CONTACT_CREATED)
    assert "by API key “CRM sync”" in created_row
    (owner_row,) = _messages(contact, TimelineEntry.Kind.PRIMARY_ASSIGNED)
    assert "by Switchboard" in owner_row
    assert "API key" not in owner_row


def test_a_group_round_started_with_a_key_is_the_keys_start_and_switchboards_pick(listening):
    # given a contact of Ava and a round-robin group of Ben
    ava, ben = AgentFactory(companies=[listening]), AgentFactory(companies=[listening])
    online(ava, ben)
    contact = _contact(listening)
    contact_assign_primary_agent(contact=contact, agent=ava, actor=None)
    group = _group(listening, [ben], "round_robin")

    # when an API key starts its re-assignment through the group
    with acting_key(KEY):
        reassignment_start(contact=contact, group=group, actor=None)

    # then the start is the key's; the pick (owner changed, finished) Switchboard's; all "group"
    (started,) = _events(EventType.REASSIGNMENT_STARTED)
    owner = _events(EventType.CONTACT_OWNER_CHANGED)[-1]
    (finished,) = _events(EventType.REASSIGNMENT_FINISHED)
    assert [e.data["actor"] for e in (started, owner, finished)] == [KEY_ACTOR] + [SWITCHBOARD] * 2
    assert [e.data["method"] for e in (started, owner, finished)] == ["group"] * 3
    # and on the timeline: started by the key, changed by Switchboard
    (started_row,) = _messages(contact, TimelineEntry.Kind.REASSIGN_STARTED)
    assert "started by API key “CRM sync”" in started_row
    changed_row = _messages(contact, TimelineEntry.Kind.PRIMARY_CHANGED)[-1]
    assert "by Switchboard" in changed_row and "API key" not in changed_row


# --- A handover through a claim-based group is one mass change -------------------------------
def test_a_handover_falling_to_the_default_assignee_is_batched_as_one_mass_change(
    listening, company_admin
):
    # given Ava's book of three contacts and a first-to-claim group whose only member is
    # offline, with Dana as its default assignee
    ava, ben, dana = (AgentFactory(companies=[listening]) for _ in range(3))
    online(ava, dana)
    book = [_contact(listening, n) for n in range(3)]
    for contact in book:
        contact_assign_primary_agent(contact=contact, agent=ava, actor=None)
    group = _group(listening, [ben], "first_to_claim", default_assignee=dana)
    Event.objects.all().delete()

    # when an admin hands the book over (nobody to offer it to: straight to Dana)
    agent_book_handover(company=listening, agent=ava, group=group, actor=company_admin)

    # then every event is of the mass change "handover", at one moment, grouped by type
    events = list(Event.objects.order_by("pk"))
    assert [e.type for e in events] == [EventType.REASSIGNMENT_STARTED] * 3 + [
        EventType.CONTACT_OWNER_CHANGED
    ] * 3 + [EventType.REASSIGNMENT_FINISHED] * 3
    assert {e.data["mass_change"] for e in events} == {"handover"}
    assert len({e.occurred_at for e in events}) == 1
    owners = [e for e in events if e.type == EventType.CONTACT_OWNER_CHANGED]
    assert {(e.data["method"], e.data["to"]["id"]) for e in owners} == {("handover", dana.pk)}
    # and each contact's events stay in its order: started, owner changed, finished
    for contact in book:
        mine = [e for e in events if e.contact_id == contact.pk]
        assert [e.type for e in mine] == [
            EventType.REASSIGNMENT_STARTED,
            EventType.CONTACT_OWNER_CHANGED,
            EventType.REASSIGNMENT_FINISHED,
        ]
        assert [e.version for e in mine] == [1, 2, 2]
    # and an endpoint hearing everything gets three batches, not nine requests
    endpoint = Endpoint(pk=1, event_types=[t.value for t in EventType])
    rows = list(
        Event.objects.order_by("pk").values_list("id", "type", "occurred_at", "data__mass_change")
    )
    deliveries = deliveries_for(endpoint, rows)
    assert [(d.mass, len(d.events)) for d in deliveries] == [("handover", 3)] * 3


def test_a_handover_that_raises_writes_none_of_its_held_events(listening, monkeypatch):
    # given Ava's book of two contacts and a first-to-claim group falling to Dana
    ava, ben, dana = (AgentFactory(companies=[listening]) for _ in range(3))
    online(ava, dana)
    for n in range(2):
        contact_assign_primary_agent(contact=_contact(listening, n), agent=ava, actor=None)
    group = _group(listening, [ben], "first_to_claim", default_assignee=dana)
    Event.objects.all().delete()
    # when the handover fails after its rounds ran
    import routing.handover

    real = routing.handover.round_start
    calls = []

    def failing(**kwargs):
        calls.append(real(**kwargs))
        if len(calls) == 2:
            raise RuntimeError("the worker died")
        return calls[-1]

    monkeypatch.setattr(routing.handover, "round_start", failing)
    with pytest.raises(RuntimeError):
        agent_book_handover(company=listening, agent=ava, group=group, actor=None)

    # then no event of it was written
    assert not Event.objects.exists()


# --- Inbound, leads, campaign records ---------------------------------------------------------
def test_an_interaction_routed_is_method_inbound_with_its_reason(listening):
    # when a text comes in from a new number
    inbound_receive(company=listening, channel="text", phone="+12025550777", body="hi")

    # then its routing says inbound, and why it went where it did
    (event,) = _events(EventType.INTERACTION_ROUTED)
    assert event.data["method"] == "inbound"
    assert event.data["reason"]


@pytest.fixture
def customers(listening):
    product = Product.objects.create(company=listening, name="Valuation", price=Decimal("100"))
    made = []
    for n in range(3):
        contact = _contact(listening, 30 + n)
        order_create(
            company=listening,
            contact=contact,
            actor=None,
            status=Order.Status.PARTIAL,
            lines=[Line(product=product, quantity=1)],
        )
        made.append(contact)
    return made


@pytest.fixture
def leo(listening):
    return AgentFactory(access_level=AccessLevel.LEADS_AGENT, companies=[listening])


def test_a_lead_change_is_manual_by_a_person_and_api_with_a_key(
    listening, customers, leo, company_admin
):
    # when an admin assigns one customer's lead and a key another's
    lead_assign(company=listening, contact=customers[0], agent=leo, actor=company_admin)
    with acting_key(KEY):
        lead_assign(company=listening, contact=customers[1], agent=leo, actor=None)

    # then the events say how, with the reason (none given: "")
    first, second = _events(EventType.LEAD_ASSIGNED)
    assert (first.data["method"], first.data["reason"]) == ("manual", "")
    assert (second.data["method"], second.data["actor"]) == ("api", KEY_ACTOR)


def test_batch_unassign_and_resolve_of_leads_have_their_own_mass_labels(
    listening, customers, leo, company_admin
):
    # given three leads of Leo, and a sales disposition
    ids = [c.pk for c in customers]
    leads_assign_bulk(company=listening, contact_ids=ids, agent=leo, actor=company_admin)
    sold = Disposition.objects.create(
        center=ContactCenterFactory(company=listening, name="Sales"), name="Sold", is_sales=True
    )

    # when an admin unassigns two at once, then the last is re-assigned with the first and
    # both are resolved at once
    leads_change(
        company=listening, contact_ids=ids[:2], change=Change.UNASSIGN, actor=company_admin
    )
    Order.objects.filter(contact_id=ids[0]).update(created_at="2100-01-01T00:00:00Z")
    leads_change(
        company=listening,
        contact_ids=[ids[0]],
        change=Change.ASSIGN,
        agent=leo,
        actor=company_admin,
    )
    leads_change(
        company=listening,
        contact_ids=[ids[0], ids[2]],
        change=Change.RESOLVE,
        disposition=sold,
        actor=company_admin,
    )

    # then the assignment batch is "bulk_assign", the unassignment "bulk_unassign", the
    # resolution "bulk_resolve", each with its method
    assigned = _events(EventType.LEAD_ASSIGNED)
    assert [e.data.get("mass_change") for e in assigned] == ["bulk_assign"] * 3 + [None]
    unassigned = _events(EventType.LEAD_UNASSIGNED)
    assert [e.data["mass_change"] for e in unassigned] == ["bulk_unassign"] * 2
    resolved = _events(EventType.LEAD_RESOLVED)
    assert [e.data["mass_change"] for e in resolved] == ["bulk_resolve"] * 2
    assert {e.data["method"] for e in assigned + unassigned + resolved} == {"manual"}


def test_a_campaign_record_handled_is_manual_with_an_empty_reason(listening):
    # given a running campaign with a record for Ava
    ava = AgentFactory(email="ava@acme.test", full_name="Ava", companies=[listening])
    queue = queue_with(listening, ava)
    campaign = make_campaign(listening, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    promise = Disposition.objects.get(center=queue, name="Promise to pay")

    # when she calls it and gives it a disposition
    entry = entry_next(campaign=campaign, agent=ava)
    entry_call(entry_id=entry.pk, agent=ava)
    entry_disposition(entry_id=entry.pk, agent=ava, disposition=promise)

    # then both events are hers, by hand
    events = _events(EventType.CAMPAIGN_RECORD_HANDLED)
    assert [(e.data["method"], e.data["reason"]) for e in events] == [("manual", "")] * 2


# --- Every type ------------------------------------------------------------------------------
def test_every_event_type_carries_the_actor_the_method_and_the_reason(
    listening, customers, leo, company_admin
):
    # given a company doing a bit of everything: contacts, a rule's round, a group's round,
    # a text, leads assigned, resolved and unassigned, a campaign record, a delete
    ben = AgentFactory(companies=[listening])
    online(ben)
    _rule(listening, [ben])
    fresh = _form_save(listening, actor=company_admin)
    reassignment_start(
        contact=fresh, group=_group(listening, [leo, ben], "round_robin"), actor=None
    )
    inbound_receive(company=listening, channel="text", phone="+12025550999", body="hi")
    lead = lead_assign(company=listening, contact=customers[0], agent=leo, actor=company_admin)
    leads_change(
        company=listening,
        contact_ids=[lead.contact_id],
        change=Change.UNASSIGN,
        actor=company_admin,
    )
    center = ContactCenterFactory(company=listening, name="Sales")
    sold = Disposition.objects.create(center=center, name="Sold", is_sales=True)
    Order.objects.filter(contact=customers[1]).update(created_at="2100-01-01T00:00:00Z")
    second = lead_assign(company=listening, contact=customers[1], agent=leo, actor=None)
    leads_change(
        company=listening,
        contact_ids=[second.contact_id],
        change=Change.RESOLVE,
        disposition=sold,
        actor=company_admin,
    )
    ava = AgentFactory(email="ava@acme.test", full_name="Ava", companies=[listening])
    campaign = make_campaign(
        listening, queue_with(listening, ava, name="Q"), [("ava@acme.test", "1")]
    )
    campaign_start(campaign=campaign)
    entry_call(entry_id=entry_next(campaign=campaign, agent=ava).pk, agent=ava)
    contacts_delete(company=listening, contact_ids=[fresh.pk], actor=company_admin)

    # then every type was written, and every event says who, how and why
    events = list(Event.objects.all())
    assert {e.type for e in events} == {t.value for t in EventType}
    for event in events:
        assert {"actor", "method", "reason"} <= set(event.data), event.type
        assert event.data["method"] in {
            "manual",
            "api",
            "rule",
            "group",
            "handover",
            "deadline",
            "queue",
            "inbound",
            "campaign",
        }
        assert isinstance(event.data["reason"], str)
