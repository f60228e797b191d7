"""``contact.owner_changed``: written by the one ownership path in the transaction of the
change, per changed contact, with the method of the path that made it and the actor."""

import pytest
from django.db import transaction

from agents.actors import KeyActor, acting_key
from contacts.models import Contact
from contacts.ownership import (
    contact_assign_primary_agent,
    contacts_assign_primary_agent_bulk,
    contacts_set_primary_agent,
)
from contacts.services import contact_create
from events.models import Event, EventType
from routing.handover import agent_book_handover
from routing.models import GroupMember, ReassignmentGroup, Round, RoutingRule, RuleMember
from routing.rounds import offer_claim, reassignment_start, round_expire
from routing.rules import contact_save_routed
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db

OWNER_CHANGED = EventType.CONTACT_OWNER_CHANGED


@pytest.fixture(autouse=True)
def dispatched(monkeypatch):
    """The company ids whose dispatch was queued (delivery is another helper's work: the
    queueing is what the ownership path owes)."""
    calls: list[int] = []
    monkeypatch.setattr("events.emit._dispatch_after_commit", calls.append)
    return calls


@pytest.fixture
def listening(company):
    company.outbound_event_types = [t.value for t in EventType]
    company.save()
    return company


@pytest.fixture
def team(company):
    """Ava, Ben and Chloe, online."""
    people = [AgentFactory(companies=[company]) for _ in range(3)]
    online(*people)
    return people


def _contacts(company, n, owner=None):
    contacts = [
        contact_create(company=company, actor=None, name=f"Client {k}", phone=f"+1202555{k:04d}")
        for k in range(n)
    ]
    if owner is not None:
        contacts_set_primary_agent(
            company=company, targets={c.pk: owner for c in contacts}, actor=None
        )
    return contacts


def _ref(agent):
    return {"id": agent.pk, "email": agent.email, "name": str(agent)}


def _owner_events():
    return list(Event.objects.filter(type=OWNER_CHANGED).order_by("pk"))


def test_a_manual_change_writes_one_event_with_from_to_reason_version_and_the_person(
    listening, team, company_admin, dispatched
):
    # given a contact owned by Ava
    ava, ben, _ = team
    (contact,) = _contacts(listening, 1, owner=ava)
    Event.objects.all().delete()

    # when an admin gives it to Ben
    contact_assign_primary_agent(contact=contact, agent=ben, actor=company_admin, reason="VIP")

    # then one event says who moved it from whom to whom, how, why, and at which version
    (event,) = _owner_events()
    assert event.contact_id == contact.pk
    assert event.version == 2
    assert event.data == {
        "contact": {"id": contact.pk, "name": "Client 0", "phone": "+12025550000"},
        "from": _ref(ava),
        "to": _ref(ben),
        "method": "manual",
        "reason": "VIP",
        "version": 2,
        "actor": {
            "type": "agent",
            "id": company_admin.pk,
            "email": company_admin.email,
            "name": str(company_admin),
        },
    }
    assert "mass_change" not in event.data
    assert dispatched and set(dispatched) == {listening.pk}


def test_clearing_the_primary_agent_says_to_null(listening, team):
    # given a contact owned by Ava
    ava = team[0]
    (contact,) = _contacts(listening, 1, owner=ava)
    Event.objects.all().delete()

    # when Switchboard clears it
    contact_assign_primary_agent(contact=contact, agent=None, actor=None)

    # then the event goes from Ava to nobody, by Switchboard
    (event,) = _owner_events()
    assert event.data["from"] == _ref(ava)
    assert event.data["to"] is None
    assert event.data["actor"] == {"type": "switchboard"}


def test_nothing_is_written_when_no_endpoint_hears_the_type(company, team, dispatched):
    # given a company whose endpoints hear only leads
    company.outbound_event_types = [EventType.LEAD_ASSIGNED.value]
    company.save()
    contacts = _contacts(company, 3)

    # when contacts change owner, one and many
    contact_assign_primary_agent(contact=contacts[0], agent=team[0], actor=None)
    contacts_set_primary_agent(
        company=company, targets={c.pk: team[1] for c in contacts}, actor=None
    )

    # then no event is written and no dispatch queued
    assert not Event.objects.exists()
    assert dispatched == []


def test_a_change_that_rolled_back_leaves_no_event(listening, team):
    # given a contact
    (contact,) = _contacts(listening, 1)
    Event.objects.all().delete()

    # when its change is rolled back after the service returned
    with pytest.raises(RuntimeError), transaction.atomic():
        contact_assign_primary_agent(contact=contact, agent=team[0], actor=None)
        assert _owner_events()  # written inside the transaction...
        raise RuntimeError("the caller fails")

    # then ...and gone with it
    assert _owner_events() == []


def test_skipped_contacts_get_no_event(listening, team):
    # given two contacts owned by Ava and one already Ben's
    ava, ben, _ = team
    a, b, c = _contacts(listening, 3)
    contacts_set_primary_agent(
        company=listening, targets={a.pk: ava, b.pk: ava, c.pk: ben}, actor=None
    )
    Event.objects.all().delete()

    # when all three go to Ben
    contacts_set_primary_agent(
        company=listening, targets={a.pk: ben, b.pk: ben, c.pk: ben}, actor=None
    )

    # then only the two that changed have an event, as a bulk assignment
    events = _owner_events()
    assert [e.contact_id for e in events] == [a.pk, b.pk]
    assert {e.data["mass_change"] for e in events} == {"bulk_assign"}
    assert {e.data["method"] for e in events} == {"manual"}


def test_a_change_made_with_an_api_key_is_method_api_and_names_the_key(listening, team):
    # given a contact
    (contact,) = _contacts(listening, 1)
    Event.objects.all().delete()

    # when it changes while an API key acts
    with acting_key(KeyActor(id=7, name="CRM sync", prefix="sb_live_ab")):
        contact_assign_primary_agent(contact=contact, agent=team[0], actor=None)

    # then the event says "api" and names the key
    (event,) = _owner_events()
    assert event.data["method"] == "api"
    assert event.data["actor"] == {
        "type": "api_key",
        "id": 7,
        "name": "CRM sync",
        "prefix": "sb_live_ab",
    }


def test_a_bulk_assign_writes_one_event_per_contact_batched_as_bulk_assign(listening, team):
    # given five unowned contacts
    contacts = _contacts(listening, 5)
    Event.objects.all().delete()

    # when they all go to Ava at once
    changed = contacts_assign_primary_agent_bulk(
        company=listening, contact_ids=[c.pk for c in contacts], agent=team[0], actor=None
    )

    # then each has its event, marked as one mass change
    assert changed == 5
    events = _owner_events()
    assert sorted(e.contact_id for e in events) == sorted(c.pk for c in contacts)
    assert {e.version for e in events} == {1}
    assert {e.data["mass_change"] for e in events} == {"bulk_assign"}
    assert {e.data["to"]["id"] for e in events} == {team[0].pk}


def test_versions_increase_per_contact_in_event_id_order_across_two_changes(listening, team):
    # given two contacts
    contacts = _contacts(listening, 2)
    ids = [c.pk for c in contacts]

    # when they change owner twice, together
    contacts_set_primary_agent(company=listening, targets=dict.fromkeys(ids, team[0]), actor=None)
    contacts_set_primary_agent(company=listening, targets=dict.fromkeys(ids, team[1]), actor=None)

    # then, per contact and in event id order, versions go 1 then 2 (Event row and payload)
    for pk in ids:
        events = [e for e in _owner_events() if e.contact_id == pk]
        assert [e.version for e in events] == [1, 2]
        assert [e.data["version"] for e in events] == [1, 2]
        assert [e.data["to"]["id"] for e in events] == [team[0].pk, team[1].pk]


def test_a_handover_writes_one_event_per_contact_as_a_handover(listening, team, company_admin):
    # given Ava's book of six contacts and a round-robin group of Ben and Chloe
    ava, ben, chloe = team
    book = _contacts(listening, 6, owner=ava)
    group = ReassignmentGroup.objects.create(
        company=listening, name="Closers", method="round_robin"
    )
    GroupMember.objects.create(group=group, agent=ben)
    GroupMember.objects.create(group=group, agent=chloe)
    Event.objects.all().delete()

    # when an admin hands the book over
    moved = agent_book_handover(company=listening, agent=ava, group=group, actor=company_admin)

    # then every contact has one event from Ava, method and mass change "handover"
    assert moved == 6
    events = _owner_events()
    assert sorted(e.contact_id for e in events) == sorted(c.pk for c in book)
    assert {e.version for e in events} == {2}
    assert {e.data["method"] for e in events} == {"handover"}
    assert {e.data["mass_change"] for e in events} == {"handover"}
    assert {e.data["from"]["id"] for e in events} == {ava.pk}
    assert {e.data["to"]["id"] for e in events} == {ben.pk, chloe.pk}
    assert {e.data["actor"]["id"] for e in events} == {company_admin.pk}
    assert all("handover of" in e.data["reason"] for e in events)


def _group(company, members, method="round_robin", **kwargs):
    group = ReassignmentGroup.objects.create(
        company=company, name=f"{method} group", method=method, **kwargs
    )
    for member in members:
        GroupMember.objects.create(group=group, agent=member)
    return group


def test_a_group_round_that_picks_someone_is_method_group(listening, team):
    # given a contact of Ava and a round-robin group of Ben
    ava, ben, _ = team
    (contact,) = _contacts(listening, 1, owner=ava)
    group = _group(listening, [ben])
    Event.objects.all().delete()

    # when it is re-assigned through the group
    reassignment_start(contact=contact, group=group, actor=None)

    # then the change is the group's
    (event,) = _owner_events()
    assert event.data["method"] == "group"
    assert event.data["to"] == _ref(ben)
    assert "round robin" in event.data["reason"]


def test_a_claim_and_a_default_assignee_are_method_group(listening, team):
    # given a first-to-claim group of Ben and Chloe, and a contact of Ava
    ava, ben, chloe = team
    (contact,) = _contacts(listening, 1, owner=ava)
    group = _group(listening, [ben, chloe], "first_to_claim")
    round_ = reassignment_start(contact=contact, group=group, actor=ava)
    assert _owner_events()[-1].data["to"] == _ref(ava)  # no change yet

    # when Chloe claims it
    offer = round_.offers.get(agent=chloe)
    offer_claim(offer_id=offer.pk, agent=chloe)

    # then the change is the group's, to Chloe
    event = _owner_events()[-1]
    assert (event.data["method"], event.data["to"]) == ("group", _ref(chloe))


def test_a_default_assignee_after_nobody_claimed_is_method_group(listening, team):
    # given a contact of Ava offered to Ben by a first-to-claim group defaulting to Chloe
    ava, ben, chloe = team
    (contact,) = _contacts(listening, 1, owner=ava)
    group = _group(listening, [ben], "first_to_claim", default_assignee=chloe)
    round_ = reassignment_start(contact=contact, group=group, actor=None)
    Event.objects.all().delete()

    # when the claim window passes unclaimed
    Round.objects.filter(pk=round_.pk).update(deadline_at="2000-01-01T00:00:00Z")
    round_expire(round_id=round_.pk)

    # then the default assignee's change is the group's, to Chloe, saying why
    (event,) = _owner_events()
    assert (event.data["method"], event.data["to"]) == ("group", _ref(chloe))
    assert "claimed it within" in event.data["reason"]


def test_a_handover_through_a_claim_based_group_is_method_handover(listening, team):
    # given Ava's book of two contacts and a first-to-claim group of Ben, and a default
    # assignee Chloe for whatever nobody claims
    ava, ben, chloe = team
    first, second = _contacts(listening, 2, owner=ava)
    group = _group(listening, [ben], "first_to_claim", default_assignee=chloe)
    agent_book_handover(company=listening, agent=ava, group=group, actor=None)
    rounds = {r.contact_id: r for r in Round.objects.filter(excludes_owner=True)}
    Event.objects.all().delete()

    # when Ben claims the first and the second's window passes
    offer_claim(offer_id=rounds[first.pk].offers.get(agent=ben).pk, agent=ben)
    Round.objects.filter(pk=rounds[second.pk].pk).update(deadline_at="2000-01-01T00:00:00Z")
    round_expire(round_id=rounds[second.pk].pk)

    # then both changes are the handover's, from Ava, a claim and the default assignee
    events = _owner_events()
    assert [(e.contact_id, e.data["method"]) for e in events] == [
        (first.pk, "handover"),
        (second.pk, "handover"),
    ]
    assert [e.data["to"] for e in events] == [_ref(ben), _ref(chloe)]
    assert {e.data["from"]["id"] for e in events} == {ava.pk}


def test_a_routing_rule_for_a_new_contact_is_method_rule(listening, team):
    # given a routing rule (round robin to Ben) matching every new contact
    ben = team[1]
    rule = RoutingRule.objects.create(company=listening, name="Everyone", method="round_robin")
    RuleMember.objects.create(rule=rule, agent=ben)

    # when a new contact is saved from the form without a primary agent
    contact = contact_save_routed(
        company=listening,
        contact=None,
        actor=None,
        values={"name": "New", "phone": "+12025550100"},
        primary_agent=None,
        primary_agent_changed=False,
        reason="",
    )

    # then the rule's change is method "rule"
    (event,) = _owner_events()
    assert event.contact_id == contact.pk
    assert (event.data["method"], event.data["to"]) == ("rule", _ref(ben))


@pytest.mark.postgres
def test_a_large_handover_writes_its_events_through_copy_one_per_contact(listening, team):
    # given Ava's book of 450 contacts (past COPY_FROM: the events go through COPY)
    ava, ben, chloe = team
    contacts = Contact.objects.bulk_create(
        Contact(company=listening, name=f"Client {k}", phone=f"+1202556{k:04d}") for k in range(450)
    )
    contacts_set_primary_agent(company=listening, targets={c.pk: ava for c in contacts}, actor=None)
    group = _group(listening, [ben, chloe])
    Event.objects.all().delete()

    # when the book is handed over
    moved = agent_book_handover(company=listening, agent=ava, group=group, actor=None)

    # then 450 events, one per contact, each a handover with its contact and version
    assert moved == 450
    events = _owner_events()
    assert len(events) == len({e.contact_id for e in events}) == 450
    assert {e.version for e in events} == {e.data["version"] for e in events} == {2}
    assert {e.data["mass_change"] for e in events} == {"handover"}
    assert len({e.uid for e in events}) == 450
    first = next(e for e in events if e.contact_id == contacts[0].pk)
    assert first.data["contact"] == {
        "id": contacts[0].pk,
        "name": "Client 0",
        "phone": "+12025560000",
    }
