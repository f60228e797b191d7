"""The Company admin's Availability settings: working hours (validated, shown as read), the
holidays inline, capacity, response deadlines and what a missed one does."""

from datetime import date
from html import unescape

import pytest

from agents.availability.models import Holiday, ItemLoad
from agents.availability.rules import FULL, availability_one, company_holidays
from contacts.models import Interaction
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db


def url(company) -> str:
    return f"/admin/agents/company/{company.pk}/change/"


def form_data(company, **overrides) -> dict:
    data = {
        "name": company.name,
        "time_zone": company.time_zone,
        "default_region": company.default_region,
        "working_hours": "",
        "default_capacity": "",
        "text_deadline_minutes": "",
        "form_deadline_minutes": "",
        "deadline_warning_minutes": "5",
        "handover_after_misses": "",
        "handover_misses_days": "7",
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
        "holidays-MIN_NUM_FORMS": "0",
        "holidays-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_the_availability_fieldset_carries_the_fields_and_their_help(login, company_admin, company):
    # when the company's admin opens its page
    page = unescape(login(company_admin).get(url(company)).content.decode())
    # then an Availability fieldset holds every setting, with the model's help texts
    assert "<h2" in page and "Availability" in page
    for name in (
        "working_hours",
        "default_capacity",
        "text_deadline_minutes",
        "form_deadline_minutes",
        "deadline_warning_minutes",
        "away_after_missed_deadline",
        "handover_after_misses",
        "handover_misses_days",
    ):
        assert f'name="{name}"' in page, name
    assert "Blank: always working. Agents may have their own." in page
    assert "The owner is emailed this long before the deadline" in page
    assert "Holidays (whole days in the company's time zone" in page.replace(
        "holidays (", "Holidays ("
    )


def test_working_hours_are_saved_and_shown_as_read(login, company_admin, company):
    client = login(company_admin)
    # when the admin writes hours the way people write them
    response = client.post(
        url(company),
        form_data(
            company, working_hours="mon-fri 9:00-18:00, sat 10:00-14:00", default_capacity="5"
        ),
    )
    # then they are saved, and the page shows how the rules read them
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.default_capacity == 5
    page = unescape(client.get(url(company)).content.decode())
    assert "Mon-Fri 09:00-18:00, Sat 10:00-14:00" in page


def test_unreadable_working_hours_are_refused_with_the_reason(login, company_admin, company):
    response = login(company_admin).post(
        url(company), form_data(company, working_hours="Mon-Fri 9 to 5")
    )
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert "errorlist" in page and "Mon-Fri 9 to 5" in page
    company.refresh_from_db()
    assert company.working_hours == ""


def test_holidays_are_added_inline_and_copied_onto_the_company(login, company_admin, company):
    # when the admin adds a holiday on the company's page
    response = login(company_admin).post(
        url(company),
        form_data(
            company,
            **{
                "holidays-TOTAL_FORMS": "1",
                "holidays-0-date": "2026-12-25",
                "holidays-0-name": "Christmas",
            },
        ),
    )
    # then it is saved and the rules read it from the company row
    assert response.status_code == 302
    assert Holiday.objects.get(company=company).name == "Christmas"
    company.refresh_from_db()
    assert date(2026, 12, 25) in company_holidays(company)


def test_the_same_day_twice_is_refused(login, company_admin, company):
    Holiday.objects.create(company=company, date=date(2026, 12, 25), name="Christmas")
    response = login(company_admin).post(
        url(company),
        form_data(
            company,
            **{
                "holidays-TOTAL_FORMS": "1",
                "holidays-0-date": "2026-12-25",
                "holidays-0-name": "Again",
            },
        ),
    )
    assert response.status_code == 200
    assert "already has a holiday on that day" in unescape(response.content.decode())
    assert Holiday.objects.count() == 1


def test_another_companys_page_and_holidays_are_not_reachable(login, company_admin, other_company):
    Holiday.objects.create(company=other_company, date=date(2026, 12, 25), name="Globex day")
    response = login(company_admin).get(url(other_company))
    assert response.status_code == 302 or response.status_code == 404
    assert "Globex day" not in response.content.decode()


def test_the_same_day_twice_in_one_save_is_refused(login, company_admin, company):
    response = login(company_admin).post(
        url(company),
        form_data(
            company,
            **{
                "holidays-TOTAL_FORMS": "2",
                "holidays-0-date": "2026-12-25",
                "holidays-1-date": "2026-12-25",
            },
        ),
    )
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert "Please correct the duplicate data for date." in page
    assert not Holiday.objects.exists()


def test_a_default_capacity_set_counts_what_agents_already_hold(
    login, company_admin, company, django_capture_on_commit_callbacks
):
    # given an agent without a capacity of their own holding 3 open texts, and no default
    agent = online(AgentFactory(companies=[company]))
    for n in range(3):
        Interaction.objects.create(
            company=company, contact=ContactFactory(company=company, phone=f"+120255501{n:02d}"),
            channel="text", routed_to=agent, route_reason="test",
        )  # fmt: skip
    # when the company's admin sets a default capacity of 3
    with django_capture_on_commit_callbacks(execute=True):
        response = login(company_admin).post(url(company), form_data(company, default_capacity="3"))
    assert response.status_code == 302
    # then their counter says the 3 they hold: they are full, and a take is refused
    assert ItemLoad.objects.get(company=company, agent=agent).total == 3
    company.refresh_from_db()
    assert availability_one(agent, company=company).status == FULL
    # and when the default is cleared again, the counter goes (nothing is limited)
    with django_capture_on_commit_callbacks(execute=True):
        login(company_admin).post(url(company), form_data(company, default_capacity=""))
    assert not ItemLoad.objects.filter(company=company, agent=agent).exists()
