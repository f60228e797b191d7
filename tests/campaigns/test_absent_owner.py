"""Agent-owned records of an out-of-office owner: they wait for the owner unless the campaign
lets the absence's cover work them; the owner's callbacks due meanwhile are listed for the
cover either way."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from agents.availability.models import Absence
from agents.availability.rules import covering_text
from agents.centers.models import Disposition
from campaigns import selectors
from campaigns.models import Entry
from campaigns.selectors import covering_for
from campaigns.services import campaign_start, campaign_update
from campaigns.work import entry_call, entry_disposition, entry_next, entry_skip
from contacts.models import TimelineEntry
from tests.campaigns.helpers import make_campaign, queue_with
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ava(company):
    return AgentFactory(email="ava@acme.test", full_name="Ava Patel", companies=[company])


@pytest.fixture
def ben(company):
    return AgentFactory(email="ben@acme.test", full_name="Ben Okafor", companies=[company])


def _away(company, agent, cover, *, hours=48, started=1):
    now = timezone.now()
    return Absence.objects.create(
        company=company,
        agent=agent,
        starts_at=now - timedelta(hours=started),
        ends_at=now + timedelta(hours=hours),
        cover=cover,
        created_by=agent,
    )


def _campaign(company, ava, ben, *, covers: bool, rows=None):
    queue = queue_with(company, ava, ben)
    campaign = make_campaign(
        company,
        queue,
        rows or [("ava@acme.test", "1"), ("ava@acme.test", "2"), ("ben@acme.test", "3")],
    )
    if covers:
        campaign_update(campaign=campaign, cover_works_absent_owner=True)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def _callback(campaign, agent, *, at):
    """Work the agent's next record into a callback at ``at``."""
    entry = entry_next(campaign=campaign, agent=agent)
    entry_call(entry_id=entry.pk, agent=agent)
    entry_disposition(
        entry_id=entry.pk,
        agent=agent,
        disposition=Disposition.objects.get(center=campaign.queue, name="No answer"),
        callback_at=timezone.now() + timedelta(minutes=5),
    )
    Entry.objects.filter(pk=entry.pk).update(callback_at=at)
    return entry


def test_without_the_setting_an_absent_owners_records_wait_for_the_owner(company, ava, ben):
    # given Ava out of office with Ben covering, in a campaign that keeps records for owners
    campaign = _campaign(company, ava, ben, covers=False)
    _away(company, ava, ben)
    # when Ben works his own queue to its end
    assert entry_next(campaign=campaign, agent=ben).record.c0 == "Person 2"
    entry_skip(entry_id=Entry.objects.get(state=Entry.State.RESERVED).pk, agent=ben)
    # then he gets nothing of Ava's: her two records are still queued for her
    assert entry_next(campaign=campaign, agent=ben) is None
    assert set(Entry.objects.filter(agent=ava).values_list("state", flat=True)) == {
        Entry.State.QUEUED
    }


def test_with_the_setting_the_cover_gets_the_owners_records_after_their_own(company, ava, ben):
    # given Ava out of office with Ben covering, and the campaign lets covers work them
    campaign = _campaign(company, ava, ben, covers=True)
    _away(company, ava, ben)
    # when Ben asks for records
    first = entry_next(campaign=campaign, agent=ben)
    entry_skip(entry_id=first.pk, agent=ben)
    second = entry_next(campaign=campaign, agent=ben)
    # then his own comes first, then Ava's in her order, and they stay Ava's
    assert first.record.c0 == "Person 2" and first.agent_id == ben.pk
    assert second.record.c0 == "Person 0"
    assert second.agent_id == ava.pk
    assert second.state == Entry.State.RESERVED


def test_a_due_callback_of_the_owner_comes_before_their_queue_for_the_cover(company, ava, ben):
    rows = [("ava@acme.test", "1"), ("ava@acme.test", "2")]
    campaign = _campaign(company, ava, ben, covers=True, rows=rows)
    callback = _callback(campaign, ava, at=timezone.now() + timedelta(hours=1))
    _away(company, ava, ben)
    Entry.objects.filter(pk=callback.pk).update(callback_at=timezone.now() - timedelta(minutes=1))
    # when Ben, who has no records of his own, asks for the next one
    got = entry_next(campaign=campaign, agent=ben)
    # then it is Ava's due callback
    assert got.pk == callback.pk


def test_the_cover_calls_and_dispositions_through_the_owners_services(company, ava, ben):
    # given Ben previewing one of Ava's records while covering
    campaign = _campaign(company, ava, ben, covers=True, rows=[("ava@acme.test", "1")])
    _away(company, ava, ben)
    entry = entry_next(campaign=campaign, agent=ben)
    # when he calls it and saves a disposition with a callback
    entry_call(entry_id=entry.pk, agent=ben)
    soon = timezone.now() + timedelta(days=3)
    entry_disposition(
        entry_id=entry.pk,
        agent=ben,
        disposition=Disposition.objects.get(center=campaign.queue, name="No answer"),
        callback_at=soon,
    )
    # then the timeline says Ben handled it, covering for Ava
    rows = list(
        TimelineEntry.objects.filter(kind__startswith="campaign")
        .order_by("pk")
        .values_list("message", "agent_id", "details")
    )
    assert [agent for _, agent, _ in rows] == [ben.pk, ben.pk]
    assert rows[0][0].startswith("Called by Ben Okafor in campaign")
    assert all(message.endswith(", covering for Ava Patel.") for message, _, _ in rows)
    assert all(details["covering_for"] == ava.pk for _, _, details in rows)
    # and the record is still Ava's, its callback hers
    entry.refresh_from_db()
    assert entry.agent_id == ava.pk
    assert entry.callback_at == soon


def test_the_cover_may_not_act_once_the_absence_ended(company, ava, ben):
    campaign = _campaign(company, ava, ben, covers=True, rows=[("ava@acme.test", "1")])
    absence = _away(company, ava, ben)
    entry = entry_next(campaign=campaign, agent=ben)
    # when Ava comes back early
    Absence.objects.filter(pk=absence.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    # then Ben can no longer call it: it is Ava's alone again
    with pytest.raises(ValidationError, match="not in your queue"):
        entry_call(entry_id=entry.pk, agent=ben)


def test_someone_who_is_not_the_cover_gets_nothing_of_the_absent_owner(company, ava, ben):
    cara = AgentFactory(email="cara@acme.test", full_name="Cara", companies=[company])
    campaign = _campaign(company, ava, ben, covers=True, rows=[("ava@acme.test", "1")])
    _away(company, ava, ben)
    # when Cara (a member, not the cover) asks; and a record Ben holds is called by Cara
    assert entry_next(campaign=campaign, agent=cara) is None
    entry = entry_next(campaign=campaign, agent=ben)
    with pytest.raises(ValidationError, match="not in your queue"):
        entry_call(entry_id=entry.pk, agent=cara)


def test_an_absence_in_the_future_or_past_covers_nothing(company, ava, ben):
    campaign = _campaign(company, ava, ben, covers=True, rows=[("ava@acme.test", "1")])
    now = timezone.now()
    for start, end in ((1, 5), (-5, -1)):
        Absence.objects.create(
            company=company,
            agent=ava,
            cover=ben,
            starts_at=now + timedelta(hours=start),
            ends_at=now + timedelta(hours=end),
        )
    assert entry_next(campaign=campaign, agent=ben) is None


def test_the_covers_queue_page_lists_the_owners_callbacks_due_during_the_absence(
    company, ava, ben, login
):
    # given two callbacks of Ava: one during her absence, one after it ends
    campaign = _campaign(
        company, ava, ben, covers=False, rows=[("ava@acme.test", "1"), ("ava@acme.test", "2")]
    )
    absence = _away(company, ava, ben, hours=24)
    during = _callback(campaign, ava, at=timezone.now() + timedelta(hours=2))
    _callback(campaign, ava, at=timezone.now() + timedelta(hours=30))
    # when Ben opens the campaign's queue page
    page = login(ben).get(reverse("campaigns:work", args=[campaign.pk])).content.decode()
    # then he sees the covering mark and only the callback during the absence, read only
    mark = covering_text("Ava Patel", absence.ends_at, company.time_zone)
    assert mark[0].upper() + mark[1:] in page
    assert "records wait for them" in page
    assert f'id="covered-callbacks-{ava.pk}"' in page
    covering = selectors.covering_for(campaign=campaign, company=company, cover=ben)
    assert [row.entry.pk for row in covering[0].callbacks] == [during.pk]
    assert "Person 0" in page and "Person 1" not in page
    # and Ava herself sees no such section
    assert (
        "covered-callbacks"
        not in login(ava).get(reverse("campaigns:work", args=[campaign.pk])).content.decode()
    )


def test_the_covers_preview_page_marks_a_covered_record(company, ava, ben, login):
    campaign = _campaign(company, ava, ben, covers=True, rows=[("ava@acme.test", "1")])
    absence = _away(company, ava, ben)
    client = login(ben)
    # when Ben presses Next record with nothing of his own
    response = client.post(reverse("campaigns:work", args=[campaign.pk]))
    entry = Entry.objects.get(agent=ava)
    assert response.url == reverse("campaigns:entry", args=[campaign.pk, entry.pk])
    page = client.get(response.url).content.decode()
    # then the preview says whom he covers, until when, and Call goes through
    assert covering_text("Ava Patel", absence.ends_at, company.time_zone)[1:] in page
    assert 'id="covering-mark"' in page
    client.post(response.url, {"action": "call"})
    entry.refresh_from_db()
    assert entry.state == Entry.State.CALLED


def test_without_the_setting_the_cover_cannot_open_the_owners_record(company, ava, ben, login):
    campaign = _campaign(company, ava, ben, covers=False, rows=[("ava@acme.test", "1")])
    _away(company, ava, ben)
    entry = Entry.objects.get(agent=ava)
    response = login(ben).get(reverse("campaigns:entry", args=[campaign.pk, entry.pk]))
    assert response.status_code == 404


def test_the_campaign_list_shows_the_campaigns_the_cover_covers(company, ava, ben, login):
    campaign = _campaign(company, ava, ben, covers=True, rows=[("ava@acme.test", "1")])
    _away(company, ava, ben)
    page = login(ben).get(reverse("campaigns:list")).content.decode()
    assert 'id="covering-campaigns"' in page
    assert reverse("campaigns:work", args=[campaign.pk]) in page
    assert "covering for Ava Patel until" in page


def test_the_admin_sets_whether_a_cover_works_an_absent_owners_records(
    company, company_admin, ava, ben, login
):
    campaign = _campaign(company, ava, ben, covers=False, rows=[("ava@acme.test", "1")])
    client = login(company_admin)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = client.get(url).content.decode()
    assert 'name="cover_works_absent_owner"' in page
    response = client.post(url, {"name": campaign.name, "cover_works_absent_owner": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign.refresh_from_db()
    assert campaign.cover_works_absent_owner


def test_a_deactivated_agent_never_gets_a_record(company, ava, ben):
    campaign = _campaign(company, ava, ben, covers=True)
    ava.is_active = False
    ava.save(update_fields=["is_active"])
    # neither from her own queue, nor as a cover of an absent colleague
    _away(company, ben, ava)
    assert entry_next(campaign=campaign, agent=ava) is None
    assert Entry.objects.filter(state=Entry.State.RESERVED).count() == 0


def test_a_cover_outside_the_campaign_s_queue_never_works_or_sees_the_owners_records(company, ava):
    # given Ava out of office with Dana covering; Dana is not a member of the campaign's queue
    dana = AgentFactory(email="dana@acme.test", full_name="Dana Reyes", companies=[company])
    other = AgentFactory(email="other@acme.test", companies=[company])
    campaign = _campaign(company, ava, other, covers=True)
    _callback(campaign, ava, at=timezone.now() + timedelta(hours=1))
    _away(company, ava, dana)
    # then Dana gets no record of Ava's, can't act on one, and sees none of her callbacks
    assert entry_next(campaign=campaign, agent=dana) is None
    queued = Entry.objects.filter(agent=ava, state=Entry.State.QUEUED).first()
    with pytest.raises(ValidationError, match="not in your queue"):
        entry_skip(entry_id=queued.pk, agent=dana)
    assert covering_for(campaign=campaign, company=company, cover=dana) == []
