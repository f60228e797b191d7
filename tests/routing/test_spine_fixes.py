"""Bugs found in the review of the spine, each kept fixed (see also test_handover_races.py)."""

import ast
import re
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.models import AccessLevel
from contacts.models import Contact
from contacts.ownership import (
    Skip,
    contact_assign_primary_agent,
    contacts_set_primary_agent,
)
from contacts.services import contact_create
from routing import tasks
from routing.handover import agent_book_handover
from routing.models import Decision, GroupMember, Offer, ReassignmentGroup, Round
from routing.rounds import reassignment_start, round_expire
from routing.selectors import fairness
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def people(company):
    team = [AgentFactory(companies=[company]) for _ in range(3)]
    online(*team)
    return team


def _group(company, members, method, **kwargs):
    group = ReassignmentGroup.objects.create(
        company=company, name=f"{method} group", method=method, **kwargs
    )
    for member in members:
        GroupMember.objects.create(group=group, agent=member)
    return group


def _book(company, owner, n):
    contacts = [
        contact_create(company=company, actor=None, phone=f"+1202555{300 + k:04d}")
        for k in range(n)
    ]
    contacts_set_primary_agent(company=company, targets={c.pk: owner for c in contacts}, actor=None)
    return contacts


@pytest.mark.parametrize("method", ["first_to_claim", "next_up"])
def test_a_handover_through_offers_never_offers_the_leaver_their_own_contacts(
    company, people, method
):
    # given a leaver who is also a member (and the default assignee) of the group
    leaver, ben, chloe = people
    group = _group(company, [leaver, ben, chloe], method, default_assignee=leaver)
    _book(company, leaver, 3)

    # when their book is handed over through it
    started = agent_book_handover(company=company, agent=leaver, group=group, actor=None)

    # then the others are offered each contact, never the leaver
    assert started == 3
    assert Offer.objects.filter(round__group=group).exists()
    assert not Offer.objects.filter(agent=leaver).exists()
    # and when nobody claims, the leaver (the default assignee) does not get them back
    for round_ in Round.objects.filter(group=group):
        while True:  # each claim window passes unclaimed (next up: one member after another)
            past = timezone.now() - timedelta(seconds=1)
            Round.objects.filter(pk=round_.pk).update(deadline_at=past)
            Offer.objects.filter(round=round_).update(expires_at=past)
            if round_expire(round_id=round_.pk) != "next":
                break
    assert set(Round.objects.filter(group=group).values_list("status", flat=True)) == {"unassigned"}
    assert not Decision.objects.filter(group=group, chosen=leaver).exists()


def test_a_handover_that_falls_back_records_only_who_really_got_the_contact(company, people):
    # given a round-robin group whose members are all away and whose default assignee
    # can't own contacts (deactivated)
    leaver, away, _ = people
    gone = AgentFactory(companies=[company], is_active=False)
    away.presence = "away"
    away.save()
    group = _group(company, [away], "round_robin", default_assignee=gone)
    _book(company, leaver, 2)

    # when the book is handed over
    moved = agent_book_handover(company=company, agent=leaver, group=group, actor=None)

    # then nothing moved, the why log names nobody, and the fairness report counts nobody
    assert moved == 0
    assert set(Decision.objects.filter(group=group).values_list("chosen", flat=True)) == {None}
    report = fairness(group=group, since=timezone.now() - timedelta(hours=1), until=timezone.now())
    assert report["total"] == 0


def test_an_offer_email_redelivered_is_sent_once_in_the_company_time_zone(company, people):
    # given an open offer (company in America/New_York)
    owner, ben, _ = people
    group = _group(company, [ben], "first_to_claim")
    contact = _book(company, owner, 1)[0]
    mail.outbox.clear()
    with mock.patch.object(tasks.send_offer_email, "delay_on_commit"):
        round_ = reassignment_start(contact=contact, group=group, actor=None)
    offer = Offer.objects.get(round=round_)

    # when the task runs twice (acks_late redelivery)
    assert tasks.send_offer_email(offer.pk) == "sent"
    assert tasks.send_offer_email(offer.pk) == "already-sent"

    # then one email, with the local time and zone, not UTC
    assert len(mail.outbox) == 1
    assert re.search(r"before \d\d:\d\d E[SD]T$", mail.outbox[0].subject), mail.outbox[0].subject


def test_one_failing_round_does_not_stop_the_sweep_finishing_the_others(company, people):
    # given three overdue rounds, the first of which fails to finish
    owner, ben, boss = people
    group = _group(company, [ben], "first_to_claim", default_assignee=boss)
    rounds = [
        reassignment_start(contact=c, group=group, actor=None) for c in _book(company, owner, 3)
    ]
    Round.objects.update(deadline_at=timezone.now() - timedelta(seconds=1))
    real = round_expire

    def flaky(*, round_id, force=False):
        if round_id == rounds[0].pk:
            raise RuntimeError("database hiccup")
        return real(round_id=round_id, force=force)

    # when the sweep runs
    with mock.patch("routing.rounds.round_expire", flaky):
        finished = tasks.sweep_rounds()

    # then the other two finished (to the default assignee) and the first waits for the next
    assert finished == 2
    assert list(Round.objects.order_by("pk").values_list("status", flat=True)) == [
        "open",
        "fallback",
        "fallback",
    ]


def test_removing_a_member_moves_the_round_on_in_the_worker_not_in_the_request(
    login, company_admin, company, people
):
    # given a next-up round offered to Ben
    owner, ben, chloe = people
    company_admin.can_manage_routing = True
    company_admin.save()
    group = _group(company, [ben, chloe], "next_up")
    round_ = reassignment_start(contact=_book(company, owner, 1)[0], group=group, actor=None)
    assert Offer.objects.get(round=round_, status="open").agent == ben

    # when an admin removes Ben and moving the round on fails
    with mock.patch.object(tasks.expire_round, "delay_on_commit") as scheduled:
        GroupMember.objects.filter(group=group, agent=ben).delete()

    # then the round is handed to the worker (after commit), not run in the request
    scheduled.assert_called_once_with(round_.pk, force=True)
    with mock.patch("routing.rounds.lock_round", side_effect=RuntimeError("boom")):
        member = GroupMember.objects.get(group=group, agent=chloe)
        response = login(company_admin).post(
            f"/admin/routing/reassignmentgroup/{group.pk}/change/",
            {
                "name": group.name,
                "method": "next_up",
                "claim_window_minutes": 5,
                "skip_unavailable": "on",
                "members-TOTAL_FORMS": 1,
                "members-INITIAL_FORMS": 1,
                "members-0-id": member.pk,
                "members-0-group": group.pk,
                "members-0-agent": chloe.pk,
                "members-0-DELETE": "on",
            },
        )
    assert response.status_code == 302


def test_routing_management_is_refused_for_levels_that_cannot_use_it(
    login, company_admin, supervisor
):
    # given an admin who holds Contact Routing Rule Management
    company_admin.can_manage_routing = True
    company_admin.save()

    # when they tick it for a Supervisor
    response = login(company_admin).post(
        f"/admin/agents/agent/{supervisor.pk}/change/",
        {
            "email": supervisor.email,
            "full_name": supervisor.full_name,
            "access_level": AccessLevel.SUPERVISOR,
            "is_active": "on",
            "can_manage_routing": "on",
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            "line-0-license": "ai_contact_center",
            "devices-TOTAL_FORMS": "0",
            "devices-INITIAL_FORMS": "0",
        },
    )

    # then the form says why, and the Supervisor does not get it
    assert response.status_code == 200
    assert "Only Admins can hold Contact Routing Rule Management" in response.content.decode()
    supervisor.refresh_from_db()
    assert not supervisor.can_manage_routing
    assert not supervisor.has_perm("routing.manage_routing")


def test_a_demoted_admin_loses_routing_management(company_admin):
    company_admin.can_manage_routing = True
    company_admin.save()
    company_admin.access_level = AccessLevel.SUPERVISOR
    company_admin.save()
    fresh = type(company_admin).objects.get(pk=company_admin.pk)
    assert not fresh.has_perm("routing.manage_routing")


def test_the_ownership_path_skips_a_contact_whose_owner_moved(company, people):
    # given a contact that moved from Ava to Ben after a handover read Ava's book
    ava, ben, chloe = people
    contact = _book(company, ava, 1)[0]
    contact_assign_primary_agent(contact=contact, agent=ben, actor=None)

    # when the handover writes with Ava as the expected owner
    outcome = contacts_set_primary_agent(
        company=company, targets={contact.pk: chloe}, actor=None, expected_owner=ava
    )

    # then Ben keeps it
    assert outcome.skipped == {contact.pk: Skip.OWNER_MOVED}
    assert Contact.objects.get(pk=contact.pk).primary_agent == ben


def test_a_held_contact_is_refused_by_every_path_but_its_round(company, people):
    owner, ben, chloe = people
    group = _group(company, [ben, chloe], "first_to_claim")
    contact = _book(company, owner, 1)[0]
    reassignment_start(contact=contact, group=group, actor=None)
    contact.refresh_from_db()
    assert contact.reassign_in_progress
    with pytest.raises(ValidationError, match="Re-Assign in progress through group"):
        contact_assign_primary_agent(contact=contact, agent=ben, actor=None)


# Row and table locks in SQL text (case-insensitive), and the ORM's lock.
LOCK_SQL = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(?:KEY\s+)?SHARE\b|\bSKIP\s+LOCKED\b"
    r"|\bNOWAIT\b|\bLOCK\s+TABLE\b|pg_(?:try_)?advisory",
    re.IGNORECASE,
)
LOCK_MODULES = {
    "agents/locks.py",
    "contacts/locks.py",
    "routing/locks.py",
    "leads/locks.py",
    "campaigns/locks.py",
}


def _locks_in(node: ast.AST) -> list[str]:
    """The locks a piece of code takes: ``select_for_update`` and lock clauses in its strings
    (docstrings aside: they may name a lock they don't take)."""
    docstrings = {
        id(n.value)
        for n in ast.walk(node)
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
    }
    found = []
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and n.attr == "select_for_update":
            found.append(f"line {n.lineno}: select_for_update")
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings:
            found += [f"line {n.lineno}: {m.group(0)}" for m in LOCK_SQL.finditer(n.value)]
    return found


def _app_sources():
    # Every Django app of ours and the settings; tests and migrations aside. (bench/ measures
    # and is no app: its floor is a bare Django's raw FOR UPDATE on purpose.)
    packages = sorted({p.parent.name for p in ROOT.glob("*/apps.py")} | {"config"})
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative:
                yield relative, ast.parse(path.read_text(), relative)


def test_no_row_lock_is_taken_outside_the_lock_modules():
    # One lock order (agents/lockorder.py), recorded by the helpers of the locks modules; a
    # lock anywhere else would be taken in an order nobody checks.
    offenders = [
        f"{relative} {lock}"
        for relative, tree in _app_sources()
        if relative not in LOCK_MODULES
        for lock in _locks_in(tree)
    ]
    assert offenders == []


def test_the_guard_sees_every_kind_of_lock():
    sources = [
        "Contact.objects.select_for_update().get(pk=1)",
        'cursor.execute("SELECT id FROM t WHERE id = %s for update")',
        'cursor.execute("SELECT id FROM t FOR NO KEY UPDATE OF t")',
        'sql = f"SELECT id FROM {table} FOR SHARE"',
        'sql = "SELECT id FROM t LIMIT 1 FOR UPDATE SKIP LOCKED"',
        'cursor.execute("LOCK TABLE contacts_primaryload IN EXCLUSIVE MODE")',
        'cursor.execute("SELECT pg_advisory_xact_lock(%s)", [1])',
    ]
    for source in sources:
        assert _locks_in(ast.parse(source)), source
    assert _locks_in(ast.parse('"""Locks SELECT … FOR UPDATE (a docstring)."""')) == []


def test_every_lock_helper_records_its_level():
    # Each public function of a locks module calls lock_taken (agents/lockorder.py), or
    # another lock helper that does.
    missing = []
    for relative in sorted(LOCK_MODULES):
        tree = ast.parse((ROOT / relative).read_text())
        for function in tree.body:
            if not isinstance(function, ast.FunctionDef) or function.name.startswith("_"):
                continue
            called = {
                n.func.id
                for n in ast.walk(function)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            }
            if not any(name == "lock_taken" or name.startswith("lock_") for name in called):
                missing.append(f"{relative}:{function.name}")
    assert missing == []


def test_a_forced_expiry_leaves_a_fresh_offer_alone(company, people):
    # given a next-up round whose first offer was withdrawn, and the round already moved on
    # to Chloe with a fresh window (the sweep came first)
    owner, ben, chloe = people
    group = _group(company, [ben, chloe], "next_up")
    round_ = reassignment_start(contact=_book(company, owner, 1)[0], group=group, actor=None)
    Offer.objects.filter(round=round_).update(status="withdrawn")
    Round.objects.filter(pk=round_.pk).update(deadline_at=timezone.now())
    assert round_expire(round_id=round_.pk) == "next"

    # when the forced expiry queued for the withdrawal arrives late
    result = round_expire(round_id=round_.pk, force=True)

    # then Chloe's window stands
    assert result == "not-due"
    assert Offer.objects.get(round=round_, status="open").agent == chloe


def test_saving_a_group_in_the_admin_keeps_the_rotation_stored_meanwhile(
    login, company_admin, company, people
):
    # given the group's page open in the admin, and a round moving the rotation meanwhile
    company_admin.can_manage_routing = True
    company_admin.save()
    group = _group(company, people, "round_robin")
    client = login(company_admin)
    client.get(f"/admin/routing/reassignmentgroup/{group.pk}/change/")
    ReassignmentGroup.objects.filter(pk=group.pk).update(rotation={"round": 7, "order": [1]})

    # when the admin renames the group
    members = list(GroupMember.objects.filter(group=group).order_by("pk"))
    data = {
        "name": "Renamed",
        "method": "round_robin",
        "claim_window_minutes": 5,
        "skip_unavailable": "on",
        "members-TOTAL_FORMS": len(members),
        "members-INITIAL_FORMS": len(members),
    }
    for n, m in enumerate(members):
        data |= {f"members-{n}-id": m.pk, f"members-{n}-group": group.pk}
        data[f"members-{n}-agent"] = m.agent_id
    response = client.post(f"/admin/routing/reassignmentgroup/{group.pk}/change/", data)

    # then the name changed and the rotation is the one stored meanwhile
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.name == "Renamed" and group.rotation == {"round": 7, "order": [1]}
