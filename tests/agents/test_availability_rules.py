"""The rules of availability (agents/availability/rules.py), in the order they apply: out of
office, off hours, presence, capacity."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.availability import rules
from agents.availability.capacity import load_admit
from agents.availability.hours import ALWAYS, parse_schedule
from agents.availability.models import Absence, Holiday
from agents.models import Company, Presence
from tests.factories import AgentFactory

TOKYO = ZoneInfo("Asia/Tokyo")


def seen_now(agent, presence=Presence.AVAILABLE):
    agent.presence = presence
    agent.last_seen_at = timezone.now()
    agent.save()
    return agent


def test_out_of_office_comes_first_whatever_the_presence_and_names_the_cover():
    # given an absence with a cover, the agent set Available and inside hours
    cover = AgentFactory.build(full_name="Ben Okafor", pk=2)
    absence = Absence(
        agent_id=1, cover=cover, starts_at=datetime(2026, 12, 1, tzinfo=TOKYO),
        ends_at=datetime(2026, 12, 4, 17, 0, tzinfo=TOKYO),
    )  # fmt: skip
    now = datetime(2026, 12, 2, 10, 0, tzinfo=TOKYO)
    # when decided
    found = rules.decide(
        presence=Presence.AVAILABLE, schedule=ALWAYS, holidays=set(), zone=TOKYO, at=now,
        absence=absence,
    )  # fmt: skip
    # then: out of office, in the why log's words and the page's
    assert found.status == rules.OUT_OF_OFFICE and not found.available
    assert found.why == "out of office until 2026-12-04 17:00 (cover: Ben Okafor)"
    assert found.label == "Out of office until Fri 17:00"
    assert found.cover_id == 2


def test_off_hours_and_holidays_come_before_presence():
    weekdays = parse_schedule("Mon-Fri 09:00-18:00")
    evening = datetime(2026, 12, 1, 19, 0, tzinfo=TOKYO)  # a Tuesday
    found = rules.decide(
        presence=Presence.AWAY, schedule=weekdays, holidays=set(), zone=TOKYO, at=evening
    )
    assert (found.status, found.why) == (rules.OFF_HOURS, "off hours until 2026-12-02 09:00")
    assert found.label == "Off hours until Wed 09:00"
    holiday = rules.decide(
        presence=Presence.AVAILABLE, schedule=weekdays, holidays={date(2026, 12, 2)},
        zone=TOKYO, at=datetime(2026, 12, 2, 10, 0, tzinfo=TOKYO),
    )  # fmt: skip
    assert holiday.status == rules.OFF_HOURS and holiday.until.astimezone(TOKYO).day == 3


def test_inside_hours_presence_then_capacity_decide():
    morning = datetime(2026, 12, 1, 10, 0, tzinfo=TOKYO)
    common = {"schedule": ALWAYS, "holidays": set(), "zone": TOKYO, "at": morning}
    assert rules.decide(presence=Presence.AWAY, **common).status == rules.AWAY
    assert rules.decide(presence=Presence.OFFLINE, **common).why == "offline"
    full = rules.decide(
        presence=Presence.AVAILABLE, capacity=rules.Capacity(total=3),
        load=rules.Load(total=3), **common,
    )  # fmt: skip
    assert (full.status, full.why) == (rules.FULL, "at capacity (3 of 3 open items)")
    texts_full = rules.decide(
        presence=Presence.AVAILABLE, capacity=rules.Capacity(per_channel=(("text", 1),)),
        load=rules.Load(total=1, by_channel=(("text", 1),)), channel="text", **common,
    )  # fmt: skip
    assert texts_full.status == rules.FULL
    # a form still fits when only texts are limited
    assert rules.decide(
        presence=Presence.AVAILABLE, capacity=rules.Capacity(per_channel=(("text", 1),)),
        load=rules.Load(total=1, by_channel=(("text", 1),)), channel="form", **common,
    ).available  # fmt: skip


@pytest.mark.django_db
def test_availability_of_reads_a_whole_team_in_three_statements_in_the_company_s_zone(
    company, django_assert_num_queries
):
    # given a company in Tokyo (the server runs in UTC) working 09:00-18:00 on weekdays,
    # a holiday tomorrow, three agents: one out of office with a cover, one with capacity
    # full, one free; and the moment 10:00 Tokyo time = 01:00 UTC
    company.time_zone = "Asia/Tokyo"
    company.working_hours = "Mon-Fri 09:00-18:00"
    company.default_capacity = 1
    company.save()
    now = datetime(2026, 12, 1, 10, 0, tzinfo=TOKYO)
    Holiday.objects.create(company=company, date=date(2026, 12, 2), name="Founders' day")
    company.refresh_from_db()
    away, cover, full = (
        seen_now(AgentFactory(companies=[company], full_name=name))
        for name in ("Chloe Martin", "Ben Okafor", "Dana Reyes")
    )
    Absence.objects.create(
        company=company, agent=away, cover=cover, starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=2),
    )  # fmt: skip
    assert load_admit(
        company_id=company.pk, agent_id=full.pk, kind="text",
        capacity=rules.capacity_of(company, full),
    )  # fmt: skip
    # when read (absences, the counters: two statements — holidays come from the company row)
    with django_assert_num_queries(2):
        found = rules.availability_of(company=company, agents=[away, cover, full], at=now)
    # then
    assert found[away.pk].why.startswith("out of office until 2026-12-03 10:00 (cover: Ben")
    assert found[cover.pk].available
    assert found[full.pk].status == rules.FULL
    # and on the holiday everyone is off hours, until Thursday 09:00 Tokyo time
    holiday = rules.availability_of(company=company, agents=[cover], at=now + timedelta(days=1))
    assert holiday[cover.pk].why == "off hours until 2026-12-03 09:00"


@pytest.mark.django_db
def test_an_absence_ending_brings_the_agent_back_without_anyone_clicking(company):
    agent = seen_now(AgentFactory(companies=[company]))
    now = timezone.now()
    Absence.objects.create(
        company=company, agent=agent, starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(minutes=30),
    )  # fmt: skip
    assert rules.availability_one(agent, company=company, at=now).status == rules.OUT_OF_OFFICE
    later = now + timedelta(minutes=31)
    agent.last_seen_at = later  # still using the Lead Center
    assert rules.availability_one(agent, company=company, at=later).available


@pytest.mark.django_db
def test_holidays_are_copied_onto_the_company_row_and_removed_with_their_row(company):
    holiday = Holiday.objects.create(company=company, date=date(2026, 12, 25), name="Christmas")
    company.refresh_from_db()
    assert rules.company_holidays(company) == {date(2026, 12, 25)}
    holiday.delete()
    company.refresh_from_db()
    assert rules.company_holidays(company) == set()


@pytest.mark.django_db
def test_working_hours_that_cannot_be_read_are_refused_with_the_reason(company):
    company.working_hours = "Mon-Fri 9 to 5"
    with pytest.raises(ValidationError) as error:
        company.full_clean()
    assert "is not a window of hours" in str(error.value)


@pytest.mark.django_db
def test_an_absence_belongs_to_its_company_and_never_reaches_another(company):
    # given an agent of two companies, out of office in the other one with a cover there
    other = Company.objects.create(name="Globex")
    agent = seen_now(AgentFactory(companies=[company, other]))
    cover = AgentFactory(companies=[other], full_name="Zed Globex")
    now = timezone.now()
    Absence.objects.create(
        company=other, agent=agent, cover=cover, starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=30),
    )  # fmt: skip
    # then out there, naming the cover there; here available, and nothing of Globex said
    assert rules.availability_one(agent, company=other, at=now).status == rules.OUT_OF_OFFICE
    here = rules.availability_one(agent, company=company, at=now)
    assert here.available and "Zed" not in here.why
