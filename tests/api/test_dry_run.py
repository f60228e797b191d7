"""The routing dry run: who would get a contact now, and why — the same answer the real
path then gives, and nothing written."""

import pytest
from django.core import mail

from agents.models import Presence
from api.models import IdempotencyRecord, Scope
from contacts.models import AssignmentEmail, Contact, Interaction, TimelineEntry
from events.models import Event
from routing.inbound import inbound_receive
from routing.models import (
    Decision,
    Offer,
    ReassignmentGroup,
    Round,
    RoutingRule,
    RuleMember,
)
from tests.api.conftest import client_for
from tests.factories import ContactFactory, online
from tests.routing.helpers import group_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/routing/dry-run/"


def make_rule(company, members, method, position=0, **kwargs):
    rule = RoutingRule.objects.create(
        company=company, name=f"{method} rule", method=method, position=position, **kwargs
    )
    RuleMember.objects.bulk_create(RuleMember(rule=rule, agent=a) for a in members)
    return rule


def counts() -> dict:
    tables = (Contact, TimelineEntry, Round, Offer, Decision, Interaction, AssignmentEmail, Event)
    return {model.__name__: model.objects.count() for model in tables} | {
        "IdempotencyRecord": IdempotencyRecord.objects.count(),
        "emails": len(mail.outbox),
    }


def rotations() -> list:
    groups = list(ReassignmentGroup.objects.order_by("pk").values_list("rotation", flat=True))
    return groups + list(RoutingRule.objects.order_by("pk").values_list("rotation", flat=True))


def test_a_group_dry_run_names_who_round_robin_would_pick_then_the_real_round_agrees(
    api, company, team, agent, django_capture_on_commit_callbacks
):
    # given Ava is away, so round robin would pass her over for Ben
    group = group_of(company, team, "round_robin")
    online(team[0], presence=Presence.AWAY)
    contact = ContactFactory(company=company, primary_agent=agent)
    before, pointer = counts(), rotations()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        dry = api.post(
            URL, {"group": group.pk, "contact": contact.pk}, format="json",
            HTTP_IDEMPOTENCY_KEY="dry-1",
        )  # fmt: skip
    # then the answer says who and why, and nothing changed
    assert dry.status_code == 200
    body = dry.json()
    assert body["outcome"] == "assigned"
    assert body["agent"]["email"] == "ben@acme.test"
    assert body["method"] == "round_robin"
    assert "passed over: Ava Patel (away)" in body["reason"]
    assert body["why"]["excluded"]["passed_over"][str(team[0].pk)]["why"] == "away"
    assert counts() == before
    assert rotations() == pointer
    contact.refresh_from_db()
    assert contact.primary_agent == agent
    # and the real round, started now, gives the contact to the same agent
    real = api.post(
        f"/api/v1/contacts/{contact.pk}/reassignments/", {"group": group.pk}, format="json"
    ).json()
    assert real["picked_agent"]["id"] == body["agent"]["id"]
    assert real["why"][0]["reason"] == body["reason"]


def test_first_to_claim_and_next_up_dry_runs_list_the_offers_the_real_round_makes(
    api, company, team, agent, boss
):
    for method in ("first_to_claim", "next_up"):
        # given
        group = group_of(company, team, method, default_assignee=boss, claim_window_minutes=7)
        contact = ContactFactory(company=company, primary_agent=team[2])
        # when
        body = api.post(URL, {"group": group.pk, "contact": contact.pk}, format="json").json()
        # then: the owner (Chloe) is never offered her own contact
        assert body["outcome"] == "offered"
        assert body["agent"] is None
        assert body["claim_window_minutes"] == 7
        assert body["default_assignee"]["id"] == boss.pk
        offered = [a["id"] for a in body["offered"]]
        real = api.post(
            f"/api/v1/contacts/{contact.pk}/reassignments/", {"group": group.pk}, format="json"
        ).json()
        assert sorted(o["agent"]["id"] for o in real["offers"]) == sorted(offered)
        if method == "first_to_claim":
            assert sorted(offered) == [team[0].pk, team[1].pk] and body["queue"] == []
        else:
            assert offered == [team[0].pk]
            assert [a["id"] for a in body["queue"]] == [team[1].pk]
            assert Round.objects.get(pk=real["id"]).queue == [team[1].pk]


def test_nobody_available_falls_to_the_default_assignee_as_the_real_round_does(
    api, company, team, agent, boss
):
    # given every member is offline
    group = group_of(company, team, "least_loaded", default_assignee=boss)
    online(*team, presence=Presence.OFFLINE)
    contact = ContactFactory(company=company, primary_agent=agent)
    # when
    body = api.post(URL, {"group": group.pk, "contact": contact.pk}, format="json").json()
    # then
    assert body["outcome"] == "default_assignee"
    assert body["agent"]["id"] == boss.pk
    assert "went to the default assignee, Dana Default" in body["reason"]
    real = api.post(
        f"/api/v1/contacts/{contact.pk}/reassignments/", {"group": group.pk}, format="json"
    ).json()
    assert (real["status"], real["picked_agent"]["id"]) == ("fallback", boss.pk)


def test_a_held_contact_is_409_as_a_real_start_would_be(api, company, team, agent):
    group = group_of(company, team, "first_to_claim")
    contact = ContactFactory(company=company, primary_agent=agent)
    api.post(f"/api/v1/contacts/{contact.pk}/reassignments/", {"group": group.pk}, format="json")
    answer = api.post(URL, {"group": group.pk, "contact": contact.pk}, format="json")
    assert answer.status_code == 409
    assert "Re-Assign already in progress" in answer.json()["detail"]


def test_a_rule_dry_run_for_a_new_number_matches_what_the_webhook_then_does(
    api, company, team, django_capture_on_commit_callbacks
):
    # given a website rule by round robin whose rotation already served Ava, and a rule
    # before it for another source
    make_rule(company, [team[2]], "round_robin", position=0, sources="zillow")
    rule = make_rule(company, team, "round_robin", position=1, sources="website")
    ContactFactory(company=company)  # some other contact
    first = api.post(
        URL, {"rule": rule.pk, "source": "website", "channel": "text", "phone": "(202) 555-0177"},
        format="json",
    ).json()  # fmt: skip
    assert first["outcome"] == "assigned"
    assert first["applied_rule"]["id"] == rule.pk
    # the real webhook: the first new number goes to Ava
    inbound_receive(company=company, channel="text", phone="+12025550177", source="website")
    assert Contact.objects.get(phone="+12025550177").primary_agent_id == first["agent"]["id"]
    before, pointer = counts(), rotations()
    # when the next number is dry-run
    with django_capture_on_commit_callbacks(execute=True):
        dry = api.post(
            URL, {"rule": rule.pk, "source": "website", "channel": "text", "phone": "202-555-0178"},
            format="json",
        ).json()  # fmt: skip
    # then it names Ben (the rotation moved on once, by the real path only)
    assert dry["agent"]["email"] == "ben@acme.test"
    assert counts() == before and rotations() == pointer
    inbound_receive(company=company, channel="text", phone="+12025550178", source="website")
    assert Contact.objects.get(phone="+12025550178").primary_agent_id == dry["agent"]["id"]


def test_a_rule_dry_run_says_when_another_rule_or_none_takes_the_contact(api, company, team):
    # given
    zillow = make_rule(company, [team[2]], "round_robin", position=0, sources="zillow")
    website = make_rule(company, team[:1], "round_robin", position=1, sources="website")
    # when another rule comes first
    earlier = api.post(URL, {"rule": website.pk, "source": "zillow"}, format="json").json()
    # then
    assert earlier["applied_rule"]["id"] == zillow.pk
    assert earlier["agent"]["id"] == team[2].pk
    assert "rule “round_robin rule” takes it first" in earlier["reason"]
    assert "does not take it" in earlier["reason"]
    # when no rule takes it: the company default, the Active pool
    nobody = api.post(URL, {"rule": website.pk, "source": "flyer"}, format="json").json()
    assert nobody["outcome"] == "pool" and nobody["agent"] is None
    assert "show in Active" in nobody["reason"]
    # a known number is not a new contact: no rule runs
    known = ContactFactory(company=company, phone="+12025550190")
    existing = api.post(
        URL, {"rule": website.pk, "source": "website", "phone": "202 555 0190"}, format="json"
    ).json()
    assert existing["outcome"] == "existing_contact" and existing["contact"] == known.pk


def test_dry_run_bodies_that_cannot_be_answered_are_400(api, company, team):
    group = group_of(company, team, "round_robin")
    rule = make_rule(company, team, "round_robin")
    contact = ContactFactory(company=company)
    bad = [
        ({}, "non_field_errors"),
        ({"group": group.pk, "rule": rule.pk}, "non_field_errors"),
        ({"group": group.pk}, "contact"),
        ({"group": group.pk, "contact": contact.pk, "phone": "1"}, "phone"),
        ({"rule": rule.pk, "contact": contact.pk}, "contact"),
        ({"rule": rule.pk, "phone": "12"}, "phone"),
        ({"rule": rule.pk, "channel": "fax"}, "channel"),
        ({"group": group.pk, "contact": 999999}, "contact"),
    ]
    for body, field in bad:
        answer = api.post(URL, body, format="json")
        assert answer.status_code == 400, body
        assert field in answer.json()["errors"], (body, answer.json())


def test_a_read_key_may_dry_run_and_nothing_else_is_needed(company, team, agent):
    group = group_of(company, team, "round_robin")
    contact = ContactFactory(company=company, primary_agent=agent)
    read_only = client_for(company, scopes=[Scope.READ])
    answer = read_only.post(URL, {"group": group.pk, "contact": contact.pk}, format="json")
    assert answer.status_code == 200
    refused = client_for(company, scopes=[Scope.ROUTING]).post(
        URL, {"group": group.pk, "contact": contact.pk}, format="json"
    )
    assert refused.status_code == 403


def test_another_company_cannot_dry_run_companys_groups_rules_or_contacts(
    other_api, other_company, company, team, agent
):
    # given company's group, rule and contact, and a contact of other_company
    group = group_of(company, team, "round_robin")
    rule = make_rule(company, team, "round_robin")
    contact = ContactFactory(company=company, primary_agent=agent)
    theirs = ContactFactory(company=other_company)
    # when / then: refused on the field, like an id that does not exist
    cases = [
        ({"group": group.pk, "contact": theirs.pk}, "group"),
        ({"group": group.pk, "contact": contact.pk}, "contact"),
        ({"rule": rule.pk, "source": "website"}, "rule"),
    ]
    for body, field in cases:
        answer = other_api.post(URL, body, format="json")
        assert answer.status_code == 400
        assert list(answer.json()["errors"]) == [field]
        assert "Acme" not in str(answer.json())
