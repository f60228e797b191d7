"""When a claim window ends, and only once: the sweep (one failing round stops no other), a
forced expiry that comes late, a member removed (the round moves on in the worker), the offer
email redelivered."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from routing import tasks
from routing.models import GroupMember, Offer, Round
from routing.rounds import reassignment_start, round_expire
from tests.routing.helpers import book_of, group_of

pytestmark = pytest.mark.django_db


def test_an_offer_email_redelivered_is_sent_once_in_the_company_time_zone(company, people):
    # given an open offer (company in America/New_York)
    owner, ben, _ = people
    group = group_of(company, [ben], "first_to_claim")
    contact = book_of(company, owner, 1)[0]
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
    group = group_of(company, [ben], "first_to_claim", default_assignee=boss)
    rounds = [
        reassignment_start(contact=c, group=group, actor=None) for c in book_of(company, owner, 3)
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
    group = group_of(company, [ben, chloe], "next_up")
    round_ = reassignment_start(contact=book_of(company, owner, 1)[0], group=group, actor=None)
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


def test_a_forced_expiry_leaves_a_fresh_offer_alone(company, people):
    # given a next-up round whose first offer was withdrawn, and the round already moved on
    # to Chloe with a fresh window (the sweep came first)
    owner, ben, chloe = people
    group = group_of(company, [ben, chloe], "next_up")
    round_ = reassignment_start(contact=book_of(company, owner, 1)[0], group=group, actor=None)
    Offer.objects.filter(round=round_).update(status="withdrawn")
    Round.objects.filter(pk=round_.pk).update(deadline_at=timezone.now())
    assert round_expire(round_id=round_.pk) == "next"

    # when the forced expiry queued for the withdrawal arrives late
    result = round_expire(round_id=round_.pk, force=True)

    # then Chloe's window stands
    assert result == "not-due"
    assert Offer.objects.get(round=round_, status="open").agent == chloe
