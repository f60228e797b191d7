"""The bulk distribution (``routing.handover``) gives what one contact at a time gives.

The property: the same random world (members with presence and availability — out of office,
off hours, at capacity —, a rotation already under way, a default assignee or none, contacts
owned by members, by an outsider or by nobody, some held by another round) is built twice, in
two companies; the admin's *Re-assign through a group…* sends the selection through the bulk
path in one, and one contact at a time (``reassignment_start``, in pk order) in the other. The
owners, the timeline rows' wording, the why log, the rounds, the counters, the rotation and
who is emailed about which contact must be the same. The whole-book handover's planner is
compared with the engine's own ``plan`` (a book's owner is never a member: no owner to skip).
"""

import itertools
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.availability.models import ItemLoad
from agents.models import Company
from contacts.models import AssignmentEmail, Contact, PrimaryLoad, TimelineEntry
from contacts.ownership import contacts_set_primary_agent
from routing import engine, why
from routing.handover import contacts_reassign_through_group, plan_many
from routing.models import Decision, GroupMember, ReassignmentGroup, Round
from routing.rounds import reassignment_start
from tests.factories import AgentFactory
from tests.routing.test_availability_paths import not_today, out_of_office

pytestmark = pytest.mark.django_db

STATES = ["available", "away", "offline", "out of office", "off hours", "full"]
_worlds = itertools.count()

world_specs = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["round_robin", "least_loaded"]),
        "skip": st.booleans(),
        "members": st.lists(st.sampled_from(STATES), min_size=1, max_size=5),
        # How many contacts the group distributed before (the rotation under way).
        "before": st.integers(0, 7),
        # None, a member (by index), or an outsider.
        "default": st.one_of(st.none(), st.integers(0, 4), st.just("outsider")),
        # Each contact's owner: None, a member (index) or the outsider; and whether held.
        "contacts": st.lists(
            st.tuples(
                st.one_of(st.none(), st.integers(0, 4), st.just("outsider")),
                st.sampled_from([False, False, False, True]),
            ),
            min_size=0,
            max_size=10,
        ),
    }
)


def _build(spec: dict, label: str):
    """One copy of the world, in a company of its own."""
    company = Company.objects.create(name=f"World {next(_worlds)} {label}", time_zone="UTC")
    members = [
        AgentFactory(companies=[company], full_name=f"Member {n}")
        for n in range(len(spec["members"]))
    ]
    outsider = AgentFactory(companies=[company], full_name="Outsider")
    now = timezone.now()
    for agent, state in zip(members, spec["members"], strict=True):
        agent.presence = "away" if state == "away" else "available"
        agent.last_seen_at = now - timedelta(days=1) if state == "offline" else now
        if state == "off hours":
            agent.working_hours = not_today(company)
        if state == "full":
            agent.capacity = 1
        agent.save()
        if state == "out of office":
            out_of_office(agent, company=company)
        if state == "full":
            ItemLoad.objects.create(company=company, agent=agent, total=1, text=1)

    def who(ref):
        if ref is None:
            return None
        if ref == "outsider":
            return outsider
        return members[ref % len(members)]

    group = ReassignmentGroup.objects.create(
        company=company,
        name="Closers",
        method=spec["method"],
        skip_unavailable=spec["skip"],
        default_assignee=who(spec["default"]),
    )
    GroupMember.objects.bulk_create(GroupMember(group=group, agent=a) for a in members)
    # A rotation under way: as if ``before`` contacts went through the group already.
    facts = [engine.Member(id=a.pk, name=str(a), presence="available") for a in members]
    group.rotation = engine.plan(
        spec["method"], facts, engine.Rotation(), spec["before"]
    ).rotation.as_dict()
    group.save(update_fields=["rotation"])
    contacts = []
    for n, (owner, held) in enumerate(spec["contacts"]):
        contact = Contact.objects.create(company=company, name=f"Contact {n}", phone="")
        agent = who(owner)
        if agent is not None:
            contacts_set_primary_agent(company=company, targets={contact.pk: agent}, actor=None)
        if held:
            Contact.objects.filter(pk=contact.pk).update(
                reassign_hold=10**9, reassign_hold_label="group “Elsewhere”"
            )
        contacts.append(contact)
    return company, group, contacts


def _snapshot(company: Company, group: ReassignmentGroup) -> dict:
    """What a person could notice, by names (the two copies' ids differ)."""
    names = {a.pk: str(a) for a in company.agents.all()}
    contact_name = dict(Contact.objects.filter(company=company).values_list("pk", "name"))

    def plain(details: dict) -> dict:
        out = {}
        for key, value in details.items():
            if key in ("round", "group"):
                continue
            out[key] = names.get(value, value) if key in ("from", "to") else value
        return out

    rows = {}
    for entry in TimelineEntry.objects.filter(company=company).order_by("created_at", "pk"):
        rows.setdefault(contact_name[entry.contact_id], []).append(
            (entry.kind, entry.message, plain(entry.details), names.get(entry.agent_id))
        )
    decisions = {}
    logged = list(Decision.objects.filter(company=company).order_by("created_at", "pk"))
    agent_names = why.agent_names(logged)
    for d in logged:
        shown = why.shown(d, agent_names)
        decisions.setdefault(contact_name[d.contact_id], []).append(
            (
                d.method,
                [c["name"] for c in shown.candidates],
                {v["name"]: v["why"] for v in shown.passed_over.values()},
                shown.had_their_turn,
                names.get(d.chosen_id),
                d.reason,
            )
        )
    emailed = set()
    for email in AssignmentEmail.objects.filter(company=company):
        emailed |= {(names[email.agent_id], contact_name[pk]) for pk, _ in email.contacts}
    group.refresh_from_db()
    return {
        "owners": {
            name: names.get(owner)
            for name, owner in Contact.objects.filter(company=company).values_list(
                "name", "primary_agent_id"
            )
        },
        "versions": dict(
            Contact.objects.filter(company=company).values_list("name", "ownership_version")
        ),
        "timeline": rows,
        "decisions": decisions,
        "rounds": sorted(
            (contact_name[c], status, names.get(to), names.get(frm))
            for c, status, to, frm in Round.objects.filter(company=company).values_list(
                "contact_id", "status", "assigned_to_id", "from_agent_id"
            )
        ),
        "counters": {
            names[a]: n
            for a, n in PrimaryLoad.objects.filter(company=company).values_list(
                "agent_id", "contacts"
            )
            if n
        },
        "rotation": {
            key: [names[i] for i in value] if isinstance(value, list) else value
            for key, value in (group.rotation or {}).items()
        },
        "emailed": emailed,
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=world_specs)
def test_a_selection_through_a_group_at_once_equals_one_contact_at_a_time(spec):
    # given the same world twice
    bulk_company, bulk_group, bulk_contacts = _build(spec, "bulk")
    one_company, one_group, one_contacts = _build(spec, "one by one")

    # when the selection goes through the group at once in one of them …
    sent, refused = contacts_reassign_through_group(
        company=bulk_company,
        contact_ids=[c.pk for c in bulk_contacts],
        group=bulk_group,
        actor=None,
    )
    # … and one contact after another, in pk order, in the other
    one_sent, one_refused = 0, []
    for contact in one_contacts:
        try:
            reassignment_start(contact=contact, group=one_group, actor=None)
            one_sent += 1
        except ValidationError as error:
            one_refused.append(f"{contact}: {' '.join(error.messages)}")

    # then everything a person could notice is the same
    assert (sent, refused) == (one_sent, one_refused)
    bulk, one = _snapshot(bulk_company, bulk_group), _snapshot(one_company, one_group)
    for key in one:
        assert bulk[key] == one[key], key


def test_the_bulk_path_writes_one_email_per_agent_and_the_same_rows(company):
    # given four unowned contacts and a round-robin group of two available members
    ava, ben = (AgentFactory(companies=[company], full_name=n) for n in ("Ava", "Ben"))
    group = ReassignmentGroup.objects.create(company=company, name="Pair", method="round_robin")
    GroupMember.objects.bulk_create(GroupMember(group=group, agent=a) for a in (ava, ben))
    now = timezone.now()
    for agent in (ava, ben):
        agent.last_seen_at = now
        agent.save()
    contacts = [Contact.objects.create(company=company, name=f"C{n}", phone="") for n in range(4)]

    # when they are sent through the group at once
    sent, refused = contacts_reassign_through_group(
        company=company, contact_ids=[c.pk for c in contacts], group=group, actor=None
    )

    # then each member got two, in turn, with one email each naming both contacts
    assert (sent, refused) == (4, [])
    owners = list(
        Contact.objects.filter(pk__in=[c.pk for c in contacts])
        .order_by("pk")
        .values_list("primary_agent__full_name", flat=True)
    )
    assert owners == ["Ava", "Ben", "Ava", "Ben"]
    emails = {e.agent.full_name: len(e.contacts) for e in AssignmentEmail.objects.all()}
    assert emails == {"Ava": 2, "Ben": 2}
    assert Round.objects.filter(group=group, status="assigned").count() == 4
    assert TimelineEntry.objects.filter(kind="reassign_started").count() == 4


@settings(max_examples=200, deadline=None)
@given(
    presences=st.lists(st.sampled_from(STATES), min_size=1, max_size=6),
    before=st.integers(0, 12),
    count=st.integers(0, 60),
    skip=st.booleans(),
)
def test_the_book_planner_equals_the_engines_plan(presences, before, count, skip):
    # given members of every availability and a rotation under way
    members = [
        engine.Member(
            id=n + 1, name=f"M{n}", presence=p, why=p if p in engine.ALWAYS_SKIPPED else ""
        )
        for n, p in enumerate(presences)
    ]
    everyone = [engine.Member(id=m.id, name=m.name, presence="available") for m in members]
    rotation = engine.plan("round_robin", everyone, engine.Rotation(), before).rotation

    # when a book of ``count`` is planned by the bulk planner and by the engine
    picks, final = plan_many(
        "round_robin", members, rotation, [None] * count, skip_unavailable=skip
    )
    expected = engine.plan("round_robin", members, rotation, count, skip_unavailable=skip)

    # then each pick and the rotation left are the same
    assert picks == expected.picks
    assert final == expected.rotation
