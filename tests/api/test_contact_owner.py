"""The API's primary agent: set / clear with compare-and-set, a held contact, bulk with mixed
outcomes and its limit, scopes and IDOR, the timeline row and the assignment email."""

import pytest

from api.models import Scope
from contacts.models import Contact, PrimaryLoad, TimelineEntry
from contacts.ownership import contact_assign_primary_agent
from routing.models import GroupMember, ReassignmentGroup
from routing.rounds import reassignment_start
from tests.api.conftest import client_for
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db


def owner_url(contact) -> str:
    return f"/api/v1/contacts/{contact.pk}/primary-agent/"


BULK = "/api/v1/contacts/primary-agent/bulk/"


@pytest.fixture
def ava(company):
    return AgentFactory(companies=[company], full_name="Ava Patel", email="ava@acme.test")


@pytest.fixture
def ben(company):
    return AgentFactory(companies=[company], full_name="Ben Okafor", email="ben@acme.test")


@pytest.fixture
def held(company, agent, ava, ben):
    """A contact of Andy's being re-assigned through a first-to-claim group (the hold)."""
    contact = ContactFactory(company=company, name="Held Harry", primary_agent=agent)
    online(ava, ben)
    group = ReassignmentGroup.objects.create(
        company=company, name="Closers", method="first_to_claim"
    )
    for member in (ava, ben):
        GroupMember.objects.create(group=group, agent=member)
    reassignment_start(contact=contact, group=group, actor=None)
    contact.refresh_from_db()
    assert contact.reassign_in_progress
    return contact


# --- Set and clear ----------------------------------------------------------------------------
def test_put_sets_the_primary_agent_with_a_timeline_row_by_the_key_and_one_email(
    company, ava, django_capture_on_commit_callbacks, mailoutbox
):
    # given
    api = client_for(company, name="CRM sync")
    contact = ContactFactory(company=company, name="Olivia Nguyen")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(
            owner_url(contact), {"agent": ava.pk, "reason": "won in the CRM"}, format="json"
        )
    # then
    assert response.status_code == 200, response.json()
    assert response.json()["primary_agent"]["email"] == "ava@acme.test"
    assert response.json()["ownership_version"] == 1
    row = TimelineEntry.objects.get(contact=contact, kind="primary_assigned")
    assert row.message == "Primary agent set to Ava Patel by API key “CRM sync” — won in the CRM."
    assert [m.to for m in mailoutbox] == [["ava@acme.test"]]
    assert "Olivia Nguyen" in mailoutbox[0].subject
    assert PrimaryLoad.objects.get(agent=ava).contacts == 1


def test_put_with_the_expected_owner_changes_it(api, company, ava, ben):
    # given
    contact = ContactFactory(company=company, primary_agent=ava)
    # when
    response = api.put(
        owner_url(contact), {"agent": ben.pk, "expected_agent": ava.pk}, format="json"
    )
    # then
    assert response.status_code == 200
    assert response.json()["primary_agent"]["id"] == ben.pk
    assert response.json()["ownership_version"] == 2


def test_put_when_the_owner_moved_is_409_naming_the_current_owner(api, company, ava, ben, agent):
    # given the integration last saw Ava, but someone gave the contact to Ben since
    contact = ContactFactory(company=company, primary_agent=ava)
    contact_assign_primary_agent(contact=contact, agent=ben, actor=None)
    # when
    response = api.put(
        owner_url(contact), {"agent": agent.pk, "expected_agent": ava.pk}, format="json"
    )
    # then
    assert response.status_code == 409
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["type"] == "urn:switchboard:problem:owner-moved"
    assert "it is now Ben Okafor" in body["detail"]
    assert body["current_agent"] == {"id": ben.pk, "email": "ben@acme.test", "name": "Ben Okafor"}
    assert body["ownership_version"] == 2
    contact.refresh_from_db()
    assert contact.primary_agent == ben


def test_an_expected_null_owner_refuses_a_contact_that_has_one(api, company, ava, ben):
    # given
    contact = ContactFactory(company=company, primary_agent=ava)
    # when
    response = api.put(owner_url(contact), {"agent": ben.pk, "expected_agent": None}, "json")
    # then
    assert response.status_code == 409
    assert response.json()["current_agent"]["id"] == ava.pk


def test_a_held_contact_is_409_reassign_in_progress(api, held, ava):
    # when
    response = api.put(owner_url(held), {"agent": ava.pk}, format="json")
    cleared = api.delete(owner_url(held))
    # then
    assert response.status_code == cleared.status_code == 409
    assert response.json()["type"] == "urn:switchboard:problem:reassign-in-progress"
    assert "Re-Assign in progress through group “Closers”" in response.json()["detail"]
    held.refresh_from_db()
    assert held.primary_agent_id != ava.pk and held.reassign_in_progress


def test_setting_the_owner_it_has_changes_nothing(api, company, ava):
    # given
    contact = ContactFactory(company=company, primary_agent=ava)
    # when
    response = api.put(owner_url(contact), {"agent": ava.pk}, format="json")
    # then
    assert response.status_code == 200
    assert response.json()["ownership_version"] == 1
    assert TimelineEntry.objects.filter(contact=contact).count() == 1


@pytest.mark.parametrize("who", ["other_company", "missing", "leads_agent", "inactive"])
def test_an_agent_who_cant_own_the_contact_is_a_400_without_naming_them(
    api, company, who, other_admin, leads_agent
):
    # given
    contact = ContactFactory(company=company)
    agent_id = {
        "other_company": other_admin.pk,
        "missing": 987654,
        "leads_agent": leads_agent.pk,
        "inactive": AgentFactory(companies=[company], is_active=False).pk,
    }[who]
    # when
    response = api.put(owner_url(contact), {"agent": agent_id}, format="json")
    # then
    assert response.status_code == 400
    assert response.json()["errors"]["agent"] == [
        f"No agent #{agent_id} can own this company's contacts: only its active agents, "
        "supervisors and admins can."
    ]
    contact.refresh_from_db()
    assert contact.primary_agent is None


def test_delete_clears_it_and_honours_expected_agent(api, company, ava, ben):
    # given
    contact = ContactFactory(company=company, primary_agent=ava)
    # when
    refused = api.delete(owner_url(contact) + f"?expected_agent={ben.pk}")
    cleared = api.delete(owner_url(contact) + f"?expected_agent={ava.pk}&reason=left")
    # then
    assert refused.status_code == 409
    assert cleared.status_code == 200
    assert cleared.json()["primary_agent"] is None
    assert cleared.json()["ownership_version"] == 2
    assert TimelineEntry.objects.get(contact=contact, kind="primary_unassigned").message.endswith(
        "— left."
    )
    assert api.delete(owner_url(contact) + "?expected_agent=ava").status_code == 400


def test_a_missing_contact_is_404(api):
    response = api.put("/api/v1/contacts/987654/primary-agent/", {"agent": None}, format="json")
    assert response.status_code == 404


# --- Bulk -------------------------------------------------------------------------------------
def test_bulk_answers_each_contact_in_order_and_emails_each_agent_once(
    api,
    company,
    other_company,
    ava,
    ben,
    agent,
    held,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    # given
    free = [ContactFactory(company=company) for _ in range(3)]
    avas = ContactFactory(company=company, primary_agent=ava)
    moved = ContactFactory(company=company, primary_agent=agent)
    theirs = ContactFactory(company=other_company)
    items = [
        {"contact": free[0].pk, "agent": ben.pk},
        {"contact": held.pk, "agent": ben.pk},
        {"contact": avas.pk, "agent": ava.pk},
        {"contact": moved.pk, "agent": ben.pk, "expected_agent": ava.pk},
        {"contact": theirs.pk, "agent": ben.pk},
        {"contact": free[1].pk, "agent": ben.pk, "expected_agent": None},
        {"contact": avas.pk + 10_000, "agent": None},
        {"contact": free[2].pk, "agent": ava.pk},
    ]
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(BULK, {"items": items, "reason": "territories"}, format="json")
    # then
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [(r["contact"], r["status"]) for r in results] == [
        (free[0].pk, "changed"),
        (held.pk, "reassign_in_progress"),
        (avas.pk, "unchanged"),
        (moved.pk, "owner_moved"),
        (theirs.pk, "not_found"),
        (free[1].pk, "changed"),
        (avas.pk + 10_000, "not_found"),
        (free[2].pk, "changed"),
    ]
    assert [r["ownership_version"] for r in results] == [1, 1, 1, 1, None, 1, None, 1]
    assert results[3]["primary_agent"] == agent.pk
    assert sorted(m.to[0] for m in mailoutbox) == ["ava@acme.test", "ben@acme.test"]
    assert (
        "2 contacts assigned to you" in next(m for m in mailoutbox if m.to == [ben.email]).subject
    )
    theirs.refresh_from_db()
    assert theirs.primary_agent is None


def test_bulk_of_1001_items_is_a_400_saying_the_limit(api, company, ava):
    # given
    contact = ContactFactory(company=company)
    items = [{"contact": contact.pk + n, "agent": ava.pk} for n in range(1001)]
    # when
    response = api.post(BULK, {"items": items}, format="json")
    # then
    assert response.status_code == 400
    assert response.json()["errors"]["items"] == [
        "At most 1,000 items in one request (this has 1,001): send the rest in another request."
    ]
    contact.refresh_from_db()
    assert contact.primary_agent is None


def test_bulk_of_1000_items_is_one_change(api, company, ava):
    # given
    contacts = [
        Contact(company=company, phone=f"+1202555{n:04d}", name=f"c{n}") for n in range(1000)
    ]
    Contact.objects.bulk_create(contacts)
    pks = list(Contact.objects.filter(company=company).values_list("pk", flat=True))
    # when
    response = api.post(
        BULK, {"items": [{"contact": pk, "agent": ava.pk} for pk in pks]}, format="json"
    )
    # then
    assert response.status_code == 200
    assert {r["status"] for r in response.json()["results"]} == {"changed"}
    assert PrimaryLoad.objects.get(agent=ava).contacts == 1000


def test_bulk_refuses_an_ineligible_agent_and_a_contact_twice_changing_nothing(
    api, company, ava, other_admin
):
    # given
    contact = ContactFactory(company=company)
    # when
    foreign = api.post(
        BULK,
        {
            "items": [
                {"contact": contact.pk, "agent": ava.pk},
                {"contact": contact.pk + 1, "agent": other_admin.pk},
            ]
        },
        format="json",
    )
    twice = api.post(
        BULK,
        {
            "items": [
                {"contact": contact.pk, "agent": ava.pk},
                {"contact": contact.pk, "agent": None},
            ]
        },
        format="json",
    )
    # then
    assert foreign.status_code == 400
    assert list(foreign.json()["errors"]) == ["items[1].agent"]
    assert f"No agent #{other_admin.pk}" in foreign.json()["detail"]
    assert twice.status_code == 400
    assert "listed twice" in twice.json()["errors"]["items"][0]
    contact.refresh_from_db()
    assert contact.primary_agent is None


# --- Scopes -----------------------------------------------------------------------------------
def test_a_write_key_gets_403_on_the_primary_agent(company, ava):
    # given
    api = client_for(company, scopes=[Scope.READ, Scope.WRITE])
    contact = ContactFactory(company=company)
    # when
    answers = [
        api.put(owner_url(contact), {"agent": ava.pk}, format="json"),
        api.delete(owner_url(contact)),
        api.post(BULK, {"items": [{"contact": contact.pk, "agent": ava.pk}]}, format="json"),
    ]
    # then
    assert [r.status_code for r in answers] == [403, 403, 403]
    assert "“routing”" in answers[0].json()["detail"]
    contact.refresh_from_db()
    assert contact.primary_agent is None


def test_bulk_with_another_companys_key_reports_not_found(other_api, company, other_company, ava):
    # given
    contact = ContactFactory(company=company)
    their_agent = AgentFactory(companies=[other_company], access_level="admin")
    # when
    response = other_api.post(
        BULK, {"items": [{"contact": contact.pk, "agent": their_agent.pk}]}, format="json"
    )
    # then
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "contact": contact.pk,
            "status": "not_found",
            "ownership_version": None,
            "primary_agent": None,
        }
    ]
    contact.refresh_from_db()
    assert contact.primary_agent is None
