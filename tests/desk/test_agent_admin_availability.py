"""The Agent admin's availability: working hours (checked; blank = the company's) with the
schedule in force shown, capacities (a capacity gained rebuilds the open-item counter), and the
out-of-office inline with a cover of the company."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.availability.models import Absence, ItemLoad
from contacts.models import Interaction
from tests.factories import AgentFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ava(company):
    return AgentFactory(email="ava@acme.test", full_name="Ava Patel", companies=[company])


@pytest.fixture
def ben(company):
    return AgentFactory(email="ben@acme.test", full_name="Ben Okafor", companies=[company])


def change_form(agent, absences=(), **extra):
    data = {
        "email": agent.email,
        "full_name": agent.full_name,
        "access_level": agent.access_level,
        "is_active": "on",
        "line-TOTAL_FORMS": "1",
        "line-INITIAL_FORMS": "0",
        "line-0-license": "ai_contact_center",
        "devices-TOTAL_FORMS": "0",
        "devices-INITIAL_FORMS": "0",
        "absences-TOTAL_FORMS": str(len(absences)),
        "absences-INITIAL_FORMS": "0",
    }
    for n, row in enumerate(absences):
        data.update({f"absences-{n}-{key}": value for key, value in row.items()})
    data.update(extra)
    return data


def local(moment):
    """The admin's split date/time widgets, in the company's zone (the page's)."""
    moment = timezone.localtime(moment)
    return {"0": f"{moment:%Y-%m-%d}", "1": f"{moment:%H:%M:%S}"}


def absence_row(starts, ends, cover=None, note=""):
    row = {"agent": "", "note": note, "cover": cover.pk if cover else ""}
    for name, moment in (("starts_at", starts), ("ends_at", ends)):
        for part, value in local(moment).items():
            row[f"{name}_{part}"] = value
    return row


def test_the_change_page_shows_the_hours_in_force_the_companys_when_blank(
    login, company, company_admin, ava
):
    company.working_hours = "Mon-Fri 09:00-17:00"
    company.save()
    page = login(company_admin).get(f"/admin/agents/agent/{ava.pk}/change/").content.decode()
    assert "Hours in force" in page
    assert "Mon-Fri 09:00-17:00 (Acme&#x27;s, in America/New_York)" in page


def test_an_admin_sets_an_agents_own_hours_and_capacities(login, company_admin, ava):
    client = login(company_admin)
    response = client.post(
        f"/admin/agents/agent/{ava.pk}/change/",
        change_form(
            ava,
            working_hours="Mon-Thu 08:00-16:00, Sat 10:00-12:00",
            capacity="5",
            text_capacity="3",
        ),
    )
    assert response.status_code == 302
    ava.refresh_from_db()
    assert (ava.working_hours, ava.capacity, ava.text_capacity) == (
        "Mon-Thu 08:00-16:00, Sat 10:00-12:00",
        5,
        3,
    )
    page = client.get(f"/admin/agents/agent/{ava.pk}/change/").content.decode()
    assert "Mon-Thu 08:00-16:00, Sat 10:00-12:00 (their own" in page


def test_hours_that_do_not_read_are_refused_next_to_the_field(login, company_admin, ava):
    response = login(company_admin).post(
        f"/admin/agents/agent/{ava.pk}/change/", change_form(ava, working_hours="Mon-Fri 9 to 5")
    )
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["working_hours"])
    assert "is not a window of hours. Write it as 09:00-18:00." in errors
    ava.refresh_from_db()
    assert ava.working_hours == ""


def test_gaining_a_capacity_rebuilds_the_open_item_counter(
    login, company, company_admin, ava, django_capture_on_commit_callbacks
):
    # given Ava, without a capacity (so no counter), holds two open texts
    for _ in range(2):
        Interaction.objects.create(
            company=company,
            contact=ContactFactory(company=company),
            channel="text",
            routed_to=ava,
            route_reason="Sent to Ava Patel.",
        )
    assert not ItemLoad.objects.filter(agent=ava).exists()
    # when the admin gives her a capacity of 4 (the counter is rebuilt once the save commits)
    with django_capture_on_commit_callbacks(execute=True):
        login(company_admin).post(
            f"/admin/agents/agent/{ava.pk}/change/", change_form(ava, capacity="4")
        )
    # then her counter says two open items (two more fit)
    load = ItemLoad.objects.get(company=company, agent=ava)
    assert (load.total, load.text) == (2, 2)


def test_an_admin_adds_an_out_of_office_with_a_cover(login, company, company_admin, ava, ben):
    starts = timezone.now() + timedelta(days=1)
    ends = starts + timedelta(days=3)
    response = login(company_admin).post(
        f"/admin/agents/agent/{ava.pk}/change/",
        change_form(ava, absences=[absence_row(starts, ends, cover=ben, note="Lisbon")]),
    )
    assert response.status_code == 302
    absence = Absence.objects.get(agent=ava)
    assert (absence.company, absence.cover, absence.note, absence.created_by) == (
        company,
        ben,
        "Lisbon",
        company_admin,
    )


def test_a_cover_of_another_company_is_refused_with_a_clear_message(
    login, company_admin, ava, other_company
):
    outsider = AgentFactory(companies=[other_company], full_name="Otto Outside")
    starts = timezone.now() + timedelta(days=1)
    response = login(company_admin).post(
        f"/admin/agents/agent/{ava.pk}/change/",
        change_form(ava, absences=[absence_row(starts, starts + timedelta(days=1), outsider)]),
    )
    assert response.status_code == 200
    assert "Choose a cover from the list: an active Lead Center agent of Acme" in (
        response.content.decode()
    )
    assert not Absence.objects.exists()


def test_overlapping_absences_and_an_end_before_the_start_are_refused(
    login, company_admin, ava, ben
):
    client = login(company_admin)
    starts = timezone.now() + timedelta(days=1)
    overlapping = [
        absence_row(starts, starts + timedelta(days=2)),
        absence_row(starts + timedelta(days=1), starts + timedelta(days=3)),
    ]
    response = client.post(
        f"/admin/agents/agent/{ava.pk}/change/", change_form(ava, absences=overlapping)
    )
    assert "Two of these absences overlap" in response.content.decode()
    backwards = [absence_row(starts, starts - timedelta(hours=1))]
    response = client.post(
        f"/admin/agents/agent/{ava.pk}/change/", change_form(ava, absences=backwards)
    )
    assert "An absence must end after it starts." in response.content.decode()
    assert not Absence.objects.exists()


def test_the_inline_shows_only_the_current_companys_absences(
    login, company, company_admin, ava, other_company
):
    ava.companies.add(other_company)
    starts = timezone.now() + timedelta(days=1)
    Absence.objects.create(
        company=other_company, agent=ava, starts_at=starts, ends_at=starts + timedelta(days=1),
        note="Globex trip",
    )  # fmt: skip
    Absence.objects.create(
        company=company, agent=ava, starts_at=starts + timedelta(days=5),
        ends_at=starts + timedelta(days=6), note="Acme leave",
    )  # fmt: skip
    ava.companies.remove(other_company)  # a company admin changes only agents of their own
    page = login(company_admin).get(f"/admin/agents/agent/{ava.pk}/change/").content.decode()
    assert "Acme leave" in page and "Globex trip" not in page


def test_a_form_posted_without_the_absences_leaves_them_as_they_are(
    login, company, company_admin, ava
):
    starts = timezone.now() + timedelta(days=1)
    Absence.objects.create(
        company=company, agent=ava, starts_at=starts, ends_at=starts + timedelta(days=1)
    )
    data = change_form(ava, full_name="Ava Renamed")
    for key in [k for k in data if k.startswith("absences-")]:
        del data[key]
    assert (
        login(company_admin).post(f"/admin/agents/agent/{ava.pk}/change/", data).status_code == 302
    )
    ava.refresh_from_db()
    assert ava.full_name == "Ava Renamed"
    assert Absence.objects.filter(agent=ava).count() == 1
