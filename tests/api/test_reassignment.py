"""Reassignment over the API: a round started through a group exactly as the contact page
starts one (the hold, the timeline, the why log, offers, claim windows, emails), its state,
its errors, scopes and company scoping."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from api.models import Scope
from contacts.models import Contact, TimelineEntry
from contacts.ownership import contact_assign_primary_agent
from routing.models import Decision, Offer, ReassignmentGroup, Round
from routing.rounds import offer_claim
from routing.tasks import sweep_rounds
from tests.api.conftest import client_for
from tests.factories import ContactFactory, online
from tests.routing.helpers import group_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def olivia(company, agent):
    contact = ContactFactory(company=company, name="Olivia Nguyen", phone="+12025550142")
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    return contact


def start(api, contact, group, **headers):
    return api.post(
        f"/api/v1/contacts/{contact.pk}/reassignments/",
        {"group": group.pk},
        format="json",
        **headers,
    )


def test_round_robin_over_the_api_reassigns_at_once_with_timeline_and_why(company, team, olivia):
    # given
    api = client_for(company, scopes=[Scope.READ, Scope.ROUTING], name="CRM sync")
    group = group_of(company, team, "round_robin")
    # when
    answer = start(api, olivia, group)
    # then
    assert answer.status_code == 201
    body = answer.json()
    assert answer["Location"] == f"/api/v1/reassignments/{body['id']}/"
    assert body["status"] == "assigned"
    assert body["picked_agent"]["email"] == "ava@acme.test"
    assert body["group"] == {"id": group.pk, "name": "round_robin group"}
    assert body["why"][0]["chosen"]["id"] == team[0].pk
    assert body["why"][0]["reason"].startswith("group “round_robin group” (round robin): next")
    # the log stores ids; the answer names them, in the engine's order
    assert body["why"][0]["candidates"] == [{"id": a.pk, "name": str(a)} for a in team]
    assert Decision.objects.get(contact=olivia).candidates == [a.pk for a in team]
    again = api.get(f"/api/v1/reassignments/{body['id']}/").json()
    assert again["why"][0]["candidates"] == body["why"][0]["candidates"]
    olivia.refresh_from_db()
    assert olivia.primary_agent == team[0] and olivia.reassign_hold is None
    started = olivia.timeline.get(kind=TimelineEntry.Kind.REASSIGN_STARTED)
    assert started.message == (
        "Re-assign through group “round_robin group” (round robin) started by API key “CRM sync”."
    )
    assert olivia.timeline.filter(kind=TimelineEntry.Kind.PRIMARY_CHANGED).exists()


def test_first_to_claim_holds_the_contact_emails_offers_and_finishes_on_a_claim(
    api, company, team, olivia, boss, django_capture_on_commit_callbacks
):
    # given
    group = group_of(
        company, team, "first_to_claim", default_assignee=boss, claim_window_minutes=10
    )
    # when
    with django_capture_on_commit_callbacks(execute=True):
        answer = start(api, olivia, group)
    # then: in progress, offered to everyone, each emailed, a deadline 10 minutes out
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "open" and body["picked_agent"] is None
    assert {o["agent"]["id"] for o in body["offers"]} == {a.pk for a in team}
    offers = [m for m in mail.outbox if m.subject.startswith("Claim")]
    assert sorted(m.to[0] for m in offers) == sorted(a.email for a in team)
    assert "Olivia Nguyen" in offers[0].subject
    olivia.refresh_from_db()
    assert olivia.reassign_hold == body["id"]
    shown = api.get(f"/api/v1/contacts/{olivia.pk}/").json()
    assert shown["reassign_in_progress"] is True
    # a second start is a 409 naming the round, and changes nothing
    again = start(api, olivia, group)
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert again.json()["round"] == body["id"]
    assert "Re-Assign already in progress" in again.json()["detail"]
    assert Round.objects.filter(contact=olivia).count() == 1
    # Ben claims from the Lead Center: the round's state says so
    offer = Offer.objects.get(round_id=body["id"], agent=team[1])
    offer_claim(offer_id=offer.pk, agent=team[1])
    state = api.get(f"/api/v1/reassignments/{body['id']}/").json()
    assert state["status"] == "claimed"
    assert state["picked_agent"]["email"] == "ben@acme.test"
    assert {o["status"] for o in state["offers"]} == {"claimed", "lost"}
    olivia.refresh_from_db()
    assert olivia.primary_agent == team[1] and olivia.reassign_hold is None


def test_an_api_round_finishes_like_one_started_from_the_contact_page(
    api, login, company, team, agent, boss
):
    # given two contacts of the same owner, sent through the same first-to-claim group:
    # one from the contact page, one over the API
    group = group_of(company, team, "first_to_claim", default_assignee=boss, claim_window_minutes=5)
    by_page = ContactFactory(company=company, primary_agent=agent)
    by_api = ContactFactory(company=company, primary_agent=agent)
    online(agent)
    page = login(agent).post(
        f"/lead-center/contacts/{by_page.pk}/reassign/", {"group": group.pk, "confirm": "yes"}
    )
    assert page.status_code == 302
    assert start(api, by_api, group).status_code == 201
    # when nobody claims within the window (the sweep finishes both)
    later = timezone.now() + timedelta(minutes=6)
    real_now = timezone.now
    try:
        timezone.now = lambda: later
        assert sweep_rounds() == 2
    finally:
        timezone.now = real_now
    # then both went to the default assignee with the same timeline rows and why log
    for contact in (by_page, by_api):
        contact.refresh_from_db()
        assert contact.primary_agent == boss and contact.reassign_hold is None

    def history(contact):
        rows = contact.timeline.order_by("pk").values_list("kind", flat=True)
        return [r for r in rows], Decision.objects.filter(contact=contact).count()

    assert history(by_page) == history(by_api)
    reason = "nobody in group “first_to_claim group” (first to claim) claimed it within 5"
    assert reason in by_api.timeline.get(kind="primary_changed", agent=boss).message
    state = api.get(f"/api/v1/reassignments/{Round.objects.get(contact=by_api).pk}/").json()
    assert state["status"] == "fallback"
    assert state["picked_agent"]["id"] == boss.pk
    assert [w["chosen"] for w in state["why"]][-1]["id"] == boss.pk


def test_another_companys_group_is_refused_like_a_missing_one(
    api, company, other_company, team, olivia
):
    # given a group of another company and an id that exists nowhere
    theirs = group_of(other_company, [], "round_robin")
    missing = ReassignmentGroup(pk=theirs.pk + 1000)
    # when
    refused = start(api, olivia, theirs)
    unknown = start(api, olivia, missing)
    # then the same 400 on the field, saying nothing of the other company
    assert refused.status_code == unknown.status_code == 400
    assert refused.json()["errors"] == unknown.json()["errors"]
    assert "group" in refused.json()["errors"]
    assert "Globex" not in str(refused.json())
    assert not Round.objects.exists()


def test_bad_bodies_are_400_with_the_field(api, olivia):
    url = f"/api/v1/contacts/{olivia.pk}/reassignments/"
    assert api.post(url, {}, format="json").json()["errors"].keys() == {"group"}
    assert api.post(url, {"group": "closers"}, format="json").status_code == 400
    assert (
        api.post("/api/v1/contacts/999999/reassignments/", {"group": 1}, format="json").status_code
        == 404
    )


def test_a_read_only_or_write_key_cannot_start_a_round(company, team, olivia):
    group = group_of(company, team, "round_robin")
    for scopes in ([Scope.READ], [Scope.READ, Scope.WRITE]):
        refused = start(client_for(company, scopes=scopes), olivia, group)
        assert refused.status_code == 403
        assert "“routing”" in refused.json()["detail"]
    assert not Round.objects.exists()


def test_another_companys_key_gets_404_on_the_contact_and_the_round(
    api, other_api, company, team, olivia
):
    # given a round of company
    group = group_of(company, team, "round_robin")
    round_id = start(api, olivia, group).json()["id"]
    olivia.refresh_from_db()
    owner = olivia.primary_agent_id
    # when / then
    assert other_api.get(f"/api/v1/reassignments/{round_id}/").status_code == 404
    assert start(other_api, olivia, group).status_code == 404
    assert Round.objects.count() == 1
    assert Contact.objects.get(pk=olivia.pk).primary_agent_id == owner


def test_an_idempotency_key_starts_one_round_and_replays_it(api, company, team, olivia):
    group = group_of(company, team, "first_to_claim")
    first = start(api, olivia, group, HTTP_IDEMPOTENCY_KEY="start-1")
    again = start(api, olivia, group, HTTP_IDEMPOTENCY_KEY="start-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Round.objects.filter(contact=olivia).count() == 1
