"""The whole-book handover (``routing.handover.agent_book_handover``) through a group: who is
offered the book, and what the why log and the fairness report record (its races on
PostgreSQL: test_handover_races.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from routing.handover import agent_book_handover
from routing.models import Decision, Offer, Round
from routing.rounds import round_expire
from routing.selectors import fairness
from tests.factories import AgentFactory
from tests.routing.helpers import book_of, group_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["first_to_claim", "next_up"])
def test_a_handover_through_offers_never_offers_the_leaver_their_own_contacts(
    company, people, method
):
    # given a leaver who is also a member (and the default assignee) of the group
    leaver, ben, chloe = people
    group = group_of(company, [leaver, ben, chloe], method, default_assignee=leaver)
    book_of(company, leaver, 3)

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
    group = group_of(company, [away], "round_robin", default_assignee=gone)
    book_of(company, leaver, 2)

    # when the book is handed over
    moved = agent_book_handover(company=company, agent=leaver, group=group, actor=None)

    # then nothing moved, the why log names nobody, and the fairness report counts nobody
    assert moved == 0
    assert set(Decision.objects.filter(group=group).values_list("chosen", flat=True)) == {None}
    report = fairness(group=group, since=timezone.now() - timedelta(hours=1), until=timezone.now())
    assert report["total"] == 0


def test_the_why_log_and_timeline_rows_of_a_handover_follow_their_contacts_group_and_agents(
    company, people
):
    # The database no longer checks the why log's contact, group and chosen agent, nor the
    # timeline's agent (routing/models.py, contacts/models.py): Django's on_delete still
    # applies to them. Given a book handed over through a round-robin group
    from django.db.models.deletion import ProtectedError

    from contacts.models import Contact, TimelineEntry

    leaver, ben, chloe = people
    group = group_of(company, [ben, chloe], "round_robin")
    contacts = book_of(company, leaver, 4)
    assert agent_book_handover(company=company, agent=leaver, group=group, actor=None) == 4
    assert Decision.objects.filter(group=group, chosen=ben).count() == 2

    # when the group is deleted, its why-log rows stay, naming no group
    group.delete()
    assert Decision.objects.filter(contact__in=contacts).count() == 4
    assert not Decision.objects.filter(contact__in=contacts, group__isnull=False).exists()

    # an agent the timeline names cannot be deleted (PROTECT)
    with pytest.raises(ProtectedError):
        ben.delete()

    # and a deleted contact takes its why-log and timeline rows with it
    first = contacts[0]
    Contact.objects.filter(pk=first.pk).delete()
    assert not Decision.objects.filter(contact_id=first.pk).exists()
    assert not TimelineEntry.objects.filter(contact_id=first.pk).exists()
