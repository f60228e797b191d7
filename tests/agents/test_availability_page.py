"""The agent's own availability page (/availability/): hours, holidays, out of office with a
cover, and nobody else's absences."""

import re
from datetime import date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from agents.availability import services
from agents.availability.models import Absence, Holiday
from agents.models import AccessLevel
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db
PAGE = "/availability/"
NY = ZoneInfo("America/New_York")


@pytest.fixture
def ben(company):
    return AgentFactory(companies=[company], full_name="Ben Okafor", email="ben@acme.test")


def local(moment: datetime) -> str:
    """A moment as the datetime-local input sends it, in the company's zone (New York)."""
    return f"{moment.astimezone(NY):%Y-%m-%dT%H:%M}"


def add(client, **fields):
    return client.post(PAGE, fields)


def body(response) -> str:
    return unescape(response.content.decode())


def soon(hours: float) -> datetime:
    return timezone.now() + timedelta(hours=hours)


def test_the_page_shows_the_companys_hours_holidays_and_zone(login, company, agent):
    # given a company working Mon-Fri 09:00-18:00 with a holiday next month
    company.working_hours = "mon-fri 9:00-18:00"
    company.save()
    Holiday.objects.create(company=company, date=date.today() + timedelta(days=30), name="Founders")
    Holiday.objects.create(company=company, date=date.today() - timedelta(days=30), name="Past")
    # when the agent opens their page
    page = body(login(agent).get(PAGE))
    # then they read the company's hours, the upcoming holiday (not the past one), the zone
    assert "The company's: Mon-Fri 09:00-18:00" in page
    assert "Founders" in page and "Past" not in page
    assert "America/New_York" in page


def test_own_hours_are_said_to_be_their_own(login, company, agent):
    agent.working_hours = "Sat 10:00-14:00"
    agent.save()
    assert "Your own: Sat 10:00-14:00" in body(login(agent).get(PAGE))


@pytest.mark.parametrize("person", ["agent", "supervisor", "company_admin", "leads_agent"])
def test_every_access_level_has_the_page(login, request, person):
    assert login(request.getfixturevalue(person)).get(PAGE).status_code == 200


def test_logged_out_people_are_sent_to_log_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_agent_adds_an_out_of_office_with_a_cover(login, company, agent, ben):
    # given the agent's page
    client = login(agent)
    starts, ends = soon(1), soon(50)
    # when they add an out of office from in an hour to in two days, Ben covering
    response = add(
        client, starts_at=local(starts), ends_at=local(ends), note="Lisbon", cover=ben.pk
    )
    # then it is saved with the times read in the company's zone, and listed
    assert response.status_code == 302
    absence = Absence.objects.get(agent=agent)
    assert absence.cover == ben and absence.company == company and absence.note == "Lisbon"
    assert abs(absence.starts_at - starts) < timedelta(minutes=1)
    assert abs(absence.ends_at - ends) < timedelta(minutes=1)
    page = body(client.get(PAGE))
    assert "Out of office added: Ben Okafor covers your texts and forms." in page
    assert "Ben Okafor covers your texts and forms." in page and "Upcoming" in page


def test_the_cover_choices_are_the_companys_other_lead_center_agents(
    login, company, agent, ben, leads_agent, other_admin
):
    gone = AgentFactory(companies=[company], full_name="Gone Agent", is_active=False)
    page = body(login(agent).get(PAGE))
    select = re.search(r'<select name="cover".*?</select>', page, re.S).group(0)
    assert "Ben Okafor" in select
    for name in (agent.full_name, leads_agent.full_name, other_admin.full_name, gone.full_name):
        assert name not in select


@pytest.mark.parametrize(
    ("starts", "ends", "field_message"),
    [
        (3, 2, "The end must be after the start."),
        (-30, -2, "That end is already past"),
        (-3, 5, "That start is in the past"),
        (1, 1 + 24 * 400, "at most a year"),
    ],
)
def test_wrong_times_are_refused_with_a_reason(login, agent, starts, ends, field_message):
    # when the agent sends times that make no out of office
    response = add(login(agent), starts_at=local(soon(starts)), ends_at=local(soon(ends)))
    # then the form says why, nothing is saved, and it is no error page
    assert response.status_code == 200
    assert field_message in body(response)
    assert not Absence.objects.exists()


def test_an_unreadable_time_is_refused_with_an_example(login, agent):
    response = add(login(agent), starts_at="tomorrow-ish", ends_at=local(soon(5)))
    assert response.status_code == 200
    assert "Enter a date and time, e.g. 2026-12-04 17:00." in body(response)


def test_an_overlap_with_another_of_theirs_is_refused(login, company, agent):
    # given an out of office tomorrow
    services.absence_create(company=company, agent=agent, starts_at=soon(24), ends_at=soon(30))
    # when the agent adds one that overlaps it
    response = add(login(agent), starts_at=local(soon(28)), ends_at=local(soon(40)))
    # then they are told which one it overlaps
    assert response.status_code == 200
    assert "This overlaps your out of office from" in body(response)
    assert Absence.objects.count() == 1


def test_an_adjacent_period_is_no_overlap(company, agent):
    first = services.absence_create(
        company=company, agent=agent, starts_at=soon(24), ends_at=soon(30)
    )
    services.absence_create(company=company, agent=agent, starts_at=first.ends_at, ends_at=soon(40))
    assert Absence.objects.count() == 2


def test_covering_for_yourself_is_refused(login, agent):
    response = add(login(agent), starts_at=local(soon(1)), ends_at=local(soon(5)), cover=agent.pk)
    assert response.status_code == 200
    assert "You cannot cover for yourself" in body(response)
    assert not Absence.objects.exists()


def test_a_cover_of_another_company_is_refused(login, agent, other_admin):
    response = add(
        login(agent), starts_at=local(soon(1)), ends_at=local(soon(5)), cover=other_admin.pk
    )
    assert response.status_code == 200
    assert "Choose a cover from the list" in body(response)
    assert not Absence.objects.exists()


def test_the_service_refuses_a_cover_who_is_no_lead_center_agent_of_the_company(
    company, agent, leads_agent, other_admin
):
    for cover in (leads_agent, other_admin):
        with pytest.raises(Exception, match="is not an active Lead Center agent of Acme"):
            services.absence_create(
                company=company, agent=agent, starts_at=soon(1), ends_at=soon(5), cover=cover
            )


def test_a_time_the_clocks_skip_is_refused(login, agent):
    # given 02:30 on the second Sunday of March in New York, which does not exist
    year = timezone.now().year + 1
    march = date(year, 3, 8)
    sunday = march + timedelta(days=(6 - march.weekday()) % 7)
    response = add(
        login(agent), starts_at=f"{sunday}T02:30", ends_at=f"{sunday + timedelta(days=1)}T09:00"
    )
    assert response.status_code == 200
    assert "clocks go forward" in body(response)


def test_ending_a_current_absence_ends_it_now_and_deleting_an_upcoming_one(
    login, company, agent, ben
):
    # given one absence under way (Ben, at work, covering) and one to come
    online(ben)
    now_one = Absence.objects.create(
        company=company, agent=agent, starts_at=soon(-2), ends_at=soon(20), cover=ben
    )
    later = services.absence_create(
        company=company, agent=agent, starts_at=soon(48), ends_at=soon(60)
    )
    client = login(agent)
    page = body(client.get(PAGE))
    assert "Out of office until" in page and "your texts and forms go to Ben Okafor" in page
    # when the agent ends the first and deletes the second
    response = client.post(f"/availability/absences/{now_one.pk}/end/", follow=True)
    assert "Your out of office ended now" in body(response)
    response = client.post(f"/availability/absences/{later.pk}/end/", follow=True)
    assert "Deleted your out of office: it had not started." in body(response)
    # then the first ended (kept, in the past), the second is gone, and they are available
    now_one.refresh_from_db()
    assert now_one.ends_at <= timezone.now()
    assert not Absence.objects.filter(pk=later.pk).exists()
    assert "Out of office until" not in body(client.get(PAGE))


def test_nobody_sees_or_ends_anothers_absence(login, company, agent, ben, other_company):
    # given Ben's absence, and an absence of a Globex agent who is also in Acme
    bens = Absence.objects.create(
        company=company, agent=ben, starts_at=soon(-1), ends_at=soon(5), note="Ben's secret"
    )
    both = AgentFactory(companies=[company, other_company], full_name="Two Hats")
    globex = Absence.objects.create(
        company=other_company, agent=both, starts_at=soon(-1), ends_at=soon(5), note="Globex note"
    )
    own_elsewhere = Absence.objects.create(
        company=other_company, agent=agent, starts_at=soon(10), ends_at=soon(12), note="Globex own"
    )
    client = login(agent)
    # when the agent opens their page and posts "end" for each of them
    page = body(client.get(PAGE))
    for absence in (bens, globex, own_elsewhere):
        response = client.post(f"/availability/absences/{absence.pk}/end/", follow=True)
        assert "No such out of office of yours." in body(response)
    # then none was shown, none changed
    assert "Ben's secret" not in page and "Globex" not in page
    for absence in (bens, globex, own_elsewhere):
        before = absence.ends_at
        absence.refresh_from_db()
        assert absence.ends_at == before


def test_ending_needs_a_post_and_a_csrf_token(company, agent, client):
    absence = Absence.objects.create(
        company=company, agent=agent, starts_at=soon(-1), ends_at=soon(5)
    )
    client.force_login(agent)
    assert client.get(f"/availability/absences/{absence.pk}/end/").status_code == 405
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(f"/availability/absences/{absence.pk}/end/").status_code == 403
    assert (
        strict.post(PAGE, {"starts_at": local(soon(1)), "ends_at": local(soon(2))}).status_code
        == 403
    )
    assert Absence.objects.count() == 1


def test_whom_they_cover_for_is_listed(login, company, agent, ben):
    Absence.objects.create(
        company=company, agent=ben, starts_at=soon(-1), ends_at=soon(5), cover=agent
    )
    page = body(login(agent).get(PAGE))
    assert "You cover for" in page and "Ben Okafor" in page


def test_off_hours_is_said_on_the_page(login, company, agent):
    # given hours on no day but a day that is not today in New York
    today = timezone.now().astimezone(NY).weekday()
    other = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[(today + 3) % 7]
    company.working_hours = f"{other} 09:00-10:00"
    company.save()
    page = body(login(agent).get(PAGE))
    assert "Off hours until" in page and "your texts and forms go to Active" in page


def test_leads_agents_have_no_lead_center_cover_list_problem(login, leads_agent, company):
    # a Leads Agent may add an out of office too (no cover needed)
    client = login(leads_agent)
    assert add(client, starts_at=local(soon(1)), ends_at=local(soon(3))).status_code == 302
    assert Absence.objects.get().agent == leads_agent
    assert leads_agent.access_level == AccessLevel.LEADS_AGENT


@pytest.fixture
def chloe(company):
    return online(
        AgentFactory(companies=[company], full_name="Chloe Martin", email="chloe@acme.test")
    )


def test_a_cover_out_of_office_too_is_said_and_texts_go_to_active(login, company, agent, chloe):
    # given Chloe out of office herself, and the agent out of office now with Chloe covering
    Absence.objects.create(company=company, agent=chloe, starts_at=soon(-1), ends_at=soon(10))
    Absence.objects.create(
        company=company, agent=agent, starts_at=soon(-1), ends_at=soon(20), cover=chloe
    )
    # when the agent opens their page
    page = body(login(agent).get(PAGE))
    # then it says where texts really go: Active, and why
    assert re.search(
        r"your texts and forms go to Active: your cover, Chloe Martin, is out of office "
        r"until [^<]+ too\.",
        page,
    )
    assert "your texts and forms go to Chloe Martin" not in page


def test_a_cover_at_work_receives_them(login, company, agent, chloe):
    Absence.objects.create(
        company=company, agent=agent, starts_at=soon(-1), ends_at=soon(20), cover=chloe
    )
    page = body(login(agent).get(PAGE))
    assert "your texts and forms go to Chloe Martin." in page


def test_saving_with_a_cover_out_during_part_of_it_warns(login, company, agent, chloe):
    # given Chloe out of office tomorrow
    Absence.objects.create(company=company, agent=chloe, starts_at=soon(24), ends_at=soon(30))
    # when the agent adds two days out from now with Chloe covering
    fields = {"starts_at": local(soon(0)), "ends_at": local(soon(48)), "cover": chloe.pk}
    response = login(agent).post(PAGE, fields, follow=True)
    # then it is saved, with a warning (not an error) naming when texts go to Active
    page = body(response)
    assert Absence.objects.filter(agent=agent, cover=chloe).exists()
    assert re.search(r'<li class="warning">Chloe Martin is out of office too during part', page)
    assert "your texts and forms go to Active then" in page


def test_no_warning_when_the_cover_is_at_work_throughout(login, company, agent, chloe):
    fields = {"starts_at": local(soon(0)), "ends_at": local(soon(48)), "cover": chloe.pk}
    response = login(agent).post(PAGE, fields, follow=True)
    assert 'class="warning"' not in body(response)


def test_from_starts_at_now_on_the_companys_clock(login, agent):
    page = body(login(agent).get(PAGE))
    start = re.search(r'name="starts_at" value="([^"]+)"', page).group(1)
    shown = datetime.strptime(start, "%Y-%m-%dT%H:%M").replace(tzinfo=NY)
    assert abs(shown - timezone.now()) < timedelta(minutes=2)
    assert 'name="ends_at" value=' not in page
