"""The campaign's counters (one definition for the agent's queue and the dashboard) and the
dashboard's Pause / Resume / Recycle."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.centers.models import Disposition
from campaigns import selectors
from campaigns.models import Campaign
from campaigns.services import campaign_pause, campaign_recycle, campaign_start
from campaigns.work import entry_call, entry_disposition, entry_next
from tests.campaigns.helpers import make_campaign, queue_with
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ava(company):
    return AgentFactory(email="ava@acme.test", full_name="Ava", companies=[company])


def _dispose(campaign, agent, *, callback_at=None):
    entry = entry_next(campaign=campaign, agent=agent)
    entry_call(entry_id=entry.pk, agent=agent)
    disposition = Disposition.objects.get(center=campaign.queue, name="No answer")
    entry_disposition(
        entry_id=entry.pk, agent=agent, disposition=disposition, callback_at=callback_at
    )
    return entry


def _counts(row) -> dict:
    keys = ("total", "done", "handled", "skipped", "remaining", "callbacks", "handled_before")
    return {k: (row[k] if isinstance(row, dict) else getattr(row, k)) for k in keys}


def test_a_disposition_with_a_callback_is_neither_done_nor_handled(login, company, ava):
    # given seven records for Ava, one dispositioned with a callback tomorrow
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", str(i)) for i in range(7)])
    campaign_start(campaign=campaign)
    _dispose(campaign, ava, callback_at=timezone.now() + timedelta(days=1))
    # then her queue and the dashboard count it alike: pending, not done, not handled
    expected = {"total": 7, "done": 0, "handled": 0, "skipped": 0, "remaining": 7,
                "callbacks": 1, "handled_before": 0}  # fmt: skip
    assert _counts(selectors.agent_progress(campaign=campaign, agent=ava)) == expected
    board = selectors.dashboard(campaign)
    assert _counts(board["rows"][0]) == expected
    assert _counts(board["totals"]) == expected
    # and the pages say so with the same words
    line = "0 of 7 done · 7 remaining · 0 handled · 0 skipped · 1 callback pending (0 due)"
    work = login(ava).get(reverse("campaigns:work", args=[campaign.pk]))
    assert line in _text(work)
    assert selectors.agent_campaigns(agent=ava, company=company)[0]["handled"] == 0


def test_after_a_recycle_the_counts_are_the_current_cycles(login, company, supervisor, ava):
    # given nine records for Ava, one handled, when the campaign is recycled
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", str(i)) for i in range(9)])
    campaign_start(campaign=campaign)
    _dispose(campaign, ava)
    assert _counts(selectors.agent_progress(campaign=campaign, agent=ava))["handled"] == 1
    campaign_recycle(campaign=campaign)
    # then her list starts again: nothing done in this cycle, the handled one shown as such
    expected = {"total": 9, "done": 0, "handled": 0, "skipped": 0, "remaining": 9,
                "callbacks": 0, "handled_before": 1}  # fmt: skip
    assert _counts(selectors.agent_progress(campaign=campaign, agent=ava)) == expected
    assert _counts(selectors.dashboard(campaign)["totals"]) == expected
    line = "0 of 9 done · 9 remaining · 0 handled · 0 skipped · 1 handled before the recycle"
    assert line in _text(login(ava).get(reverse("campaigns:work", args=[campaign.pk])))
    assert line in _text(login(supervisor).get(reverse("campaigns:dashboard", args=[campaign.pk])))


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def test_the_dashboard_pauses_resumes_and_recycles_for_a_supervisor(
    login, company, supervisor, ava
):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1"), ("ava@acme.test", "2")])
    campaign_start(campaign=campaign)
    client = login(supervisor)
    url = reverse("campaigns:dashboard", args=[campaign.pk])
    page = client.get(url)
    assert b'id="pause"' in page.content and b'id="recycle"' in page.content
    # when the supervisor pauses
    page = client.post(reverse("campaigns:pause", args=[campaign.pk]), follow=True)
    # then the campaign is paused, the dashboard says so and offers Resume
    assert page.redirect_chain[-1][0] == url
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.PAUSED
    assert b"Paused: no records are handed out until you resume." in page.content
    assert b'id="resume"' in page.content and b'id="pause"' not in page.content
    # when they resume
    page = client.post(reverse("campaigns:resume", args=[campaign.pk]), follow=True)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.RUNNING
    assert b"Resumed" in page.content
    # a recycle without the confirmation changes nothing
    page = client.post(reverse("campaigns:recycle", args=[campaign.pk]), follow=True)
    assert b"to recycle: nothing was changed" in page.content
    assert Campaign.objects.get(pk=campaign.pk).recycle_count == 0
    # with it, the campaign is recycled
    page = client.post(
        reverse("campaigns:recycle", args=[campaign.pk]), {"confirm": "yes"}, follow=True
    )
    assert Campaign.objects.get(pk=campaign.pk).recycle_count == 1
    assert b"Recycled: the unfinished lists start again" in page.content


def test_a_refused_change_is_a_message_on_the_dashboard(login, company, supervisor, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    campaign_pause(campaign=campaign)
    page = login(supervisor).post(reverse("campaigns:pause", args=[campaign.pk]), follow=True)
    assert b"A paused campaign cannot be paused." in page.content


def test_agents_cannot_pause_resume_or_recycle(login, company, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    client = login(ava)
    for action in ("pause", "resume", "recycle"):
        response = client.post(
            reverse(f"campaigns:{action}", args=[campaign.pk]), {"confirm": "yes"}
        )
        assert response.status_code == 403
    assert client.get(reverse("campaigns:dashboard", args=[campaign.pk])).status_code == 403
    fresh = Campaign.objects.get(pk=campaign.pk)
    assert (fresh.status, fresh.recycle_count) == (Campaign.Status.RUNNING, 0)


def test_another_companys_campaign_cannot_be_paused(login, company, other_admin, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    response = login(other_admin).post(reverse("campaigns:pause", args=[campaign.pk]))
    assert response.status_code == 404
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.RUNNING


def test_pause_is_post_only(login, company, supervisor, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    assert login(supervisor).get(reverse("campaigns:pause", args=[campaign.pk])).status_code == 405
