"""Owner-first texts and forms follow the owner's availability (issue 21 §1-§3): out of office
with a cover, off hours and holidays, capacity (a full owner, everyone full: the queue), and the
response deadline stamped in the working hours of whoever must answer.

The company is in America/Los_Angeles, the server in UTC: 17:55 there is 01:55 UTC the next
day, so a date taken in the wrong zone shows."""

import json
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from agents.availability.models import Absence, Holiday, ItemLoad
from agents.models import Company
from agents.services import company_set_webhook_token
from contacts.models import Contact, Interaction
from routing.inbound import inbound_receive, response_deadline
from tests.api.conftest import client_for
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
TOKEN = "sbw_test_token_availability"
PHONE = "+12025550142"
# Wednesday 2 December 2026, 11:00 in Los Angeles (19:00 UTC)
WED_11 = datetime(2026, 12, 2, 11, 0, tzinfo=LA)
ACTIVE = "so it is shown in Active to every available agent."


@pytest.fixture
def clock(monkeypatch):
    """Stop the clock at a moment (everything that asks ``timezone.now()`` gets it)."""

    def _set(moment: datetime) -> datetime:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return _set


@pytest.fixture
def la(company):
    Company.objects.filter(pk=company.pk).update(time_zone="America/Los_Angeles")
    company.refresh_from_db()
    company_set_webhook_token(company=company, token=TOKEN)
    return company


@pytest.fixture
def chloe(la):
    return AgentFactory(companies=[la], full_name="Chloe Martin", email="chloe@acme.test")


@pytest.fixture
def ben(la):
    return AgentFactory(companies=[la], full_name="Ben Okafor", email="ben@acme.test")


@pytest.fixture
def contact(la, chloe):
    return ContactFactory(company=la, phone=PHONE, primary_agent=chloe)


@pytest.fixture
def text(client):
    def _post(body: str = "Still free?", channel: str = "text") -> dict:
        response = client.post(
            "/api/inbound/",
            data=json.dumps({"channel": channel, "phone": PHONE, "body": body}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert response.status_code == 201, response.content
        return response.json()

    return _post


def away_until(agent, company, ends_at, cover=None, starts_at=None):
    return Absence.objects.create(
        company=company,
        agent=agent,
        starts_at=starts_at or ends_at - timedelta(days=5),
        ends_at=ends_at,
        cover=cover,
    )


FRI_17 = datetime(2026, 12, 4, 17, 0, tzinfo=LA)


# --- out of office ------------------------------------------------------------------------
def test_an_absence_in_another_company_does_not_reach_this_one(clock, la, chloe, contact, text):
    # given Chloe also works for Globex, and is out of office there with a Globex cover
    clock(WED_11)
    online(chloe)
    globex = Company.objects.create(name="Globex")
    chloe.companies.add(globex)
    zed = AgentFactory(companies=[globex], full_name="Zed Globex")
    away_until(chloe, globex, FRI_17, cover=zed)
    # when one of her contacts here texts
    answer = text()
    # then it is in her Mine here, and nothing of Globex is said
    assert answer["routed_to"] == "chloe@acme.test"
    assert "Zed" not in answer["reason"]


def test_out_of_office_with_an_available_cover_goes_to_the_covers_mine(
    clock, la, chloe, ben, contact, text
):
    # given Chloe out of office until Friday 17:00 with Ben covering, Ben at work
    clock(WED_11)
    online(chloe, ben)
    away_until(chloe, la, FRI_17, cover=ben)
    # when one of Chloe's contacts texts
    answer = text()
    # then it is in Ben's Mine, marked as covering for Chloe until Friday 17:00
    assert answer["routed_to"] == "ben@acme.test"
    assert answer["pool"] is None
    assert answer["reason"] == (
        "The primary agent, Chloe Martin, is out of office until 2026-12-04 17:00; sent to "
        "Ben Okafor, who covers for them."
    )
    item = Interaction.objects.get()
    assert item.routed_to == ben
    assert item.covering_for == chloe
    assert item.cover_until == FRI_17
    # and the contact is still Chloe's
    assert Contact.objects.get(pk=contact.pk).primary_agent == chloe


def test_out_of_office_without_a_cover_goes_to_active(clock, la, chloe, contact, text):
    # given Chloe out of office with nobody covering (her presence still says Available)
    clock(WED_11)
    online(chloe)
    away_until(chloe, la, FRI_17)
    # when her contact texts
    answer = text()
    # then it is in Active, saying why
    assert answer["routed_to"] is None and answer["pool"] == "active"
    assert answer["reason"] == (
        f"The primary agent, Chloe Martin, is out of office until 2026-12-04 17:00, {ACTIVE}"
    )
    assert Interaction.objects.get().covering_for is None


@pytest.mark.parametrize("situation", ["away", "out of office", "off hours", "left"])
def test_a_cover_who_cannot_take_it_sends_it_to_active(
    clock, la, chloe, ben, contact, text, situation
):
    # given Chloe out of office with Ben covering, and Ben unable to take it himself
    clock(WED_11)
    online(chloe, ben)
    away_until(chloe, la, FRI_17, cover=ben)
    if situation == "away":
        online(ben, presence="away")
    elif situation == "out of office":
        away_until(ben, la, datetime(2026, 12, 3, 9, 0, tzinfo=LA))
    elif situation == "off hours":
        ben.working_hours = "Mon-Fri 14:00-22:00"
        ben.save()
    else:
        ben.companies.clear()
    # when Chloe's contact texts
    answer = text()
    # then it is in Active for everyone, saying what is wrong with the cover
    said = {
        "away": "is away",
        "out of office": "is out of office until 2026-12-03 09:00",
        "off hours": "is off hours until 2026-12-02 14:00",
        "left": "no longer works contacts of this company",
    }[situation]
    assert answer["pool"] == "active" and answer["routed_to"] is None
    assert answer["reason"] == (
        "The primary agent, Chloe Martin, is out of office until 2026-12-04 17:00 and their "
        f"cover, Ben Okafor, {said}, {ACTIVE}"
    )


def test_coming_back_from_out_of_office_needs_no_click(clock, la, chloe, ben, contact, text):
    # given an absence that ended at 10:00 (the clock says 11:00)
    clock(WED_11)
    online(chloe, ben)
    away_until(chloe, la, datetime(2026, 12, 2, 10, 0, tzinfo=LA), cover=ben)
    # when her contact texts, then it is hers again
    assert text()["routed_to"] == "chloe@acme.test"


# --- working hours and holidays -----------------------------------------------------------
def test_off_hours_send_it_to_active_whatever_the_presence_says(clock, la, chloe, contact, text):
    # given company hours Mon-Fri 09:00-18:00 (Los Angeles) and Chloe Available at 19:30
    la.working_hours = "Mon-Fri 09:00-18:00"
    la.save()
    clock(datetime(2026, 12, 2, 19, 30, tzinfo=LA))
    online(chloe)
    # when her contact texts
    answer = text()
    # then Active, back at 09:00 the next (Los Angeles) day
    assert answer["pool"] == "active"
    assert answer["reason"] == (
        f"The primary agent, Chloe Martin, is off hours until 2026-12-03 09:00, {ACTIVE}"
    )


def test_an_agents_own_hours_win_over_the_companys(clock, la, chloe, contact, text):
    # given company hours ending 18:00 but Chloe's own evening shift
    la.working_hours = "Mon-Fri 09:00-18:00"
    la.save()
    chloe.working_hours = "Mon-Fri 17:00-23:00"
    chloe.save()
    clock(datetime(2026, 12, 2, 19, 30, tzinfo=LA))
    online(chloe)
    # then her contact's text is hers
    assert text()["routed_to"] == "chloe@acme.test"


def test_a_company_holiday_is_off_hours(clock, la, chloe, contact, text):
    # given always-open hours, and today (in Los Angeles) a company holiday
    Holiday.objects.create(company=la, date=WED_11.date(), name="Founders' day")
    la.refresh_from_db()
    clock(WED_11)
    online(chloe)
    # when her contact texts
    answer = text()
    # then Active until the holiday ends at midnight, Los Angeles time
    assert answer["pool"] == "active"
    assert answer["reason"] == (
        f"The primary agent, Chloe Martin, is off hours until 2026-12-03 00:00, {ACTIVE}"
    )


# --- capacity ------------------------------------------------------------------------------
def test_a_full_owner_sends_it_to_active_while_someone_else_has_room(
    clock, la, chloe, ben, contact, text
):
    # given Chloe may hold one open text, and Ben (no capacity) at work too
    clock(WED_11)
    chloe.text_capacity = 1
    chloe.save()
    online(chloe, ben)
    # when her contact texts twice
    first, second = text("one"), text("two")
    # then the first is hers (counted), the second goes to Active saying she is full
    assert first["routed_to"] == "chloe@acme.test"
    assert second["pool"] == "active"
    assert second["reason"] == (
        f"The primary agent, Chloe Martin, is at capacity for texts (1 open), {ACTIVE}"
    )
    load = ItemLoad.objects.get(agent=chloe)
    assert (load.total, load.text) == (1, 1)


def test_a_full_cover_sends_it_to_active(clock, la, chloe, ben, contact, text):
    # given Ben covers for Chloe and may hold one open item
    clock(WED_11)
    ben.capacity = 1
    ben.save()
    online(chloe, ben, AgentFactory(companies=[la]))
    away_until(chloe, la, FRI_17, cover=ben)
    # when two texts come in
    first, second = text("one"), text("two")
    # then Ben gets the first; the second is in Active, saying that his cover is full
    assert first["routed_to"] == "ben@acme.test"
    assert second["pool"] == "active"
    assert "their cover, Ben Okafor, is at capacity (1 open items)" in second["reason"]


def test_with_everyone_full_it_waits_in_the_queue(clock, la, chloe, contact, text):
    # given the company's default capacity is 1 and Chloe, the only one at work, holds one
    la.default_capacity = 1
    la.save()
    now = clock(WED_11)
    online(chloe)
    assert text("one")["routed_to"] == "chloe@acme.test"
    # when another text comes in
    answer = text("two")
    # then it waits in the queue, oldest first from now
    assert answer["pool"] == "queue" and answer["routed_to"] is None
    assert answer["reason"] == (
        "The primary agent, Chloe Martin, is at capacity (1 open items). Every available agent "
        "is at capacity: it waits in the queue and goes to the first with room."
    )
    assert Interaction.objects.get(pk=answer["interaction"]).queued_at == now


def test_without_capacities_an_item_for_active_never_waits(clock, la, chloe, contact, text):
    # given Chloe away and nobody with a capacity
    clock(WED_11)
    online(chloe, presence="away")
    # then her contact's text is in Active, not the queue
    assert text()["pool"] == "active"


# --- response deadlines --------------------------------------------------------------------
def test_a_text_at_1755_with_15_minutes_is_due_at_0910_the_next_working_day(
    clock, la, chloe, contact, text
):
    # given hours Mon-Fri 09:00-18:00 in Los Angeles, a 15-minute text deadline, warned 5
    # minutes before
    la.working_hours = "Mon-Fri 09:00-18:00"
    la.text_deadline_minutes = 15
    la.save()
    clock(datetime(2026, 12, 4, 17, 55, tzinfo=LA))  # a Friday: next working day is Monday
    online(chloe)
    # when her contact texts
    text()
    # then it is due Monday 09:10, warned at 09:05 (Los Angeles)
    item = Interaction.objects.get()
    assert item.routed_to == chloe
    assert item.response_due_at == datetime(2026, 12, 7, 9, 10, tzinfo=LA)
    assert item.response_warn_at == datetime(2026, 12, 7, 9, 5, tzinfo=LA)


def test_a_cover_answers_in_their_own_hours(clock, la, chloe, ben, contact, text):
    # given Ben covers for Chloe; his hours end at 12:00, a 90-minute form deadline
    la.form_deadline_minutes = 90
    la.save()
    ben.working_hours = "Mon-Fri 08:00-12:00"
    ben.save()
    clock(WED_11)
    online(chloe, ben)
    away_until(chloe, la, FRI_17, cover=ben)
    # when a form comes in at 11:00
    text(channel="form")
    # then 60 minutes count today and 30 tomorrow from 08:00: due Thursday 08:30
    item = Interaction.objects.get()
    assert item.routed_to == ben
    assert item.response_due_at == datetime(2026, 12, 3, 8, 30, tzinfo=LA)


def test_no_deadline_for_items_in_active_or_without_a_setting(clock, la, chloe, contact, text):
    # given a text deadline but none for forms, and Chloe at work
    la.text_deadline_minutes = 10
    la.save()
    clock(WED_11)
    online(chloe)
    # when a form comes in, then it has no deadline
    text(channel="form")
    assert Interaction.objects.get().response_due_at is None
    # and when she is away, a text to Active has none either
    online(chloe, presence="away")
    answer = text()
    assert Interaction.objects.get(pk=answer["interaction"]).response_due_at is None


@pytest.mark.parametrize(("warning", "warned"), [(0, None), (5, None), (2, 1)])
def test_no_warning_when_none_is_wanted_or_it_would_be_past(la, chloe, warning, warned):
    # given a 3-minute text deadline, always open
    la.text_deadline_minutes = 3
    la.deadline_warning_minutes = warning
    # when it is stamped
    due, warn = response_deadline(company=la, agent=chloe, channel="text", at=WED_11)
    # then due in 3 minutes; warned only when that is still ahead
    assert due == WED_11 + timedelta(minutes=3)
    assert warn == (None if warned is None else WED_11 + timedelta(minutes=warned))


# --- the API's inbound endpoint -------------------------------------------------------------
def test_the_apis_inbound_endpoint_routes_to_the_cover_the_same_way(clock, la, chloe, ben, contact):
    # given Chloe out of office with Ben covering, a text deadline of 15 minutes
    la.text_deadline_minutes = 15
    la.save()
    clock(WED_11)
    online(chloe, ben)
    away_until(chloe, la, FRI_17, cover=ben)
    # when the text comes through the API
    response = client_for(la).post(
        "/api/v1/interactions/inbound/", {"channel": "text", "phone": PHONE}, format="json"
    )
    # then the same answer and the same marks as the webhook's
    assert response.status_code == 201
    assert response.json()["routed_to"] == "ben@acme.test"
    item = Interaction.objects.get()
    assert (item.covering_for, item.cover_until) == (chloe, FRI_17)
    assert item.response_due_at == WED_11 + timedelta(minutes=15)


def test_inbound_receive_called_directly_follows_availability(clock, la, chloe, ben, contact):
    # given Chloe out of office with Ben covering
    clock(WED_11)
    online(chloe, ben)
    away_until(chloe, la, FRI_17, cover=ben)
    # when the service itself is called (the API and the webhook both do)
    item, replayed = inbound_receive(company=la, channel="form", phone=PHONE)
    # then it went to Ben, covering
    assert not replayed
    assert (item.routed_to, item.covering_for) == (ben, chloe)
