"""A cover's campaign pages while the owner is out of office: the queue page lists the owner's
callbacks due during the absence, *Next record* previews the owner's record marked
"covering for Ava Patel until …", and Call goes through; desktop and 390 px."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from agents.availability.models import Absence
from agents.centers.models import Disposition
from campaigns.models import Entry
from campaigns.services import campaign_start, campaign_update
from campaigns.work import entry_call, entry_disposition, entry_next
from tests.browser.csp import watch_csp
from tests.campaigns.helpers import make_campaign, queue_with
from tests.conftest import browser_login
from tests.factories import AgentFactory, online

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots_campaigns")  # noqa: S108 - the screenshots looked at by hand


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_cover_sees_the_owners_callbacks_and_previews_a_covered_record(
    new_page, company, screenshot
):
    # given Ava out of office until the day after tomorrow with Ben covering, in a campaign
    # that lets covers work an absent owner's records; Ava has a callback due meanwhile
    ava = online(AgentFactory(email="ava@acme.test", full_name="Ava Patel", companies=[company]))
    ben = online(AgentFactory(email="ben@acme.test", full_name="Ben Okafor", companies=[company]))
    queue = queue_with(company, ava, ben)
    campaign = make_campaign(
        company, queue, [("ava@acme.test", "120.50"), ("ava@acme.test", "80"),
                         ("ava@acme.test", "15")], name="Spring collections",
    )  # fmt: skip
    campaign_update(campaign=campaign, cover_works_absent_owner=True)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    first = entry_next(campaign=campaign, agent=ava)
    entry_call(entry_id=first.pk, agent=ava)
    entry_disposition(
        entry_id=first.pk,
        agent=ava,
        disposition=Disposition.objects.get(center=queue, name="No answer"),
        callback_at=timezone.now() + timedelta(hours=3),
    )
    now = timezone.now()
    Absence.objects.create(
        company=company,
        agent=ava,
        cover=ben,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=2),
        created_by=ava,
    )

    page = new_page()
    violations = watch_csp(page)
    browser_login(page, ben.email)
    # the campaign list shows what Ben covers
    page.goto("/campaigns/")
    assert "covering for Ava Patel until" in page.inner_text("#covering-campaigns")
    # the queue page: the mark, what he may do, and Ava's callback during the absence
    page.goto(f"/campaigns/{campaign.pk}/work/")
    card = page.locator(f"#covering-{ava.pk}")
    assert card.locator(".covering").inner_text().startswith("Covering for Ava Patel until")
    assert "Ava Patel’s records wait" not in card.inner_text()
    assert "3 left" in card.inner_text()  # the callback is still to work
    callbacks = page.locator(f"#covered-callbacks-{ava.pk} tbody tr")
    assert callbacks.count() == 1
    assert "Person 0" in callbacks.first.inner_text()
    _shot(page, "cover-queue")
    # Next record (Ben has none of his own): Ava's next record, marked covering
    page.click("#next-record")
    page.wait_for_selector("#covering-mark")
    assert page.inner_text("#covering-mark").startswith("Covering for Ava Patel until")
    assert "Person 1" in page.inner_text("#record-cells")
    _shot(page, "cover-preview")
    page.click("#call")
    page.wait_for_selector("#disposition-form")
    assert Entry.objects.get(record__c0="Person 1").state == Entry.State.CALLED
    # the timeline row names Ben and whom he covered
    assert "covering for Ava Patel" in page.inner_text("#timeline")
    _shot(page, "cover-preview-called")

    # 390 px: both pages fit
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "cover-preview-called-390")
    assert _fits(page)
    page.goto(f"/campaigns/{campaign.pk}/work/")
    _shot(page, "cover-queue-390")
    assert _fits(page)
    assert violations == []
