"""The API's contacts: list filters, create (routing rules as in the admin), read, update,
delete, the timeline and interactions; scopes and IDOR on every contact URL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import Scope
from contacts.models import Contact, PrimaryLoad, TimelineEntry
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing.inbound import inbound_receive
from routing.models import Round, RoutingRule, RuleMember
from tests.api.conftest import client_for
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [c["id"] for c in response.json()["results"]]


# --- List filters -----------------------------------------------------------------------------
def test_the_list_filters_by_primary_agent_or_none(api, company, agent):
    # given
    owned = ContactFactory(company=company, primary_agent=agent)
    unowned = ContactFactory(company=company)
    # when / then
    assert ids(api.get(URL, {"primary_agent": agent.pk})) == [owned.pk]
    assert ids(api.get(URL, {"primary_agent": "none"})) == [unowned.pk]


def test_a_primary_agent_that_is_no_id_is_a_400_naming_the_parameter(api):
    # when
    response = api.get(URL, {"primary_agent": "andy"})
    # then
    assert response.status_code == 400
    assert "primary_agent" in response.json()["errors"]
    assert "not an agent id" in response.json()["detail"]


def test_the_tag_filter_matches_one_whole_tag_in_any_case(api, company):
    # given
    vip = ContactFactory(company=company, tags="buyer, VIP")
    ContactFactory(company=company, tags="vip-gold, buyer")
    ContactFactory(company=company, tags="supervip")
    first = ContactFactory(company=company, tags="vip")
    # when
    found = ids(api.get(URL, {"tag": "vip"}))
    # then
    assert found == [vip.pk, first.pk]


def test_updated_since_lists_contacts_changed_at_or_after_it(api, company):
    # given
    old = ContactFactory(company=company)
    new = ContactFactory(company=company)
    Contact.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timezone.timedelta(days=3))
    since = (timezone.now() - timezone.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # when / then
    assert ids(api.get(URL, {"updated_since": since})) == [new.pk]


def test_an_updated_since_without_an_offset_is_utc(api, company):
    contact = ContactFactory(company=company)
    Contact.objects.filter(pk=contact.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    naive = (timezone.now() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")
    later = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert ids(api.get(URL, {"updated_since": naive})) == [contact.pk]
    assert ids(api.get(URL, {"updated_since": later})) == []


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_an_updated_since_with_no_utc_time_is_a_400(api, value):
    response = api.get(URL, {"updated_since": value})
    assert response.status_code == 400
    assert "out of range" in response.json()["errors"]["updated_since"][0]


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "2026-12-01T25:00"])
def test_a_bad_updated_since_is_a_400_naming_the_parameter(api, value):
    response = api.get(URL, {"updated_since": value})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "ISO 8601" in response.json()["errors"]["updated_since"][0]


def test_the_list_is_ordered_by_id_and_paginated_by_cursor(api, company):
    # given
    contacts = [ContactFactory(company=company) for _ in range(5)]
    # when
    first = api.get(URL, {"limit": 2}).json()
    second = api.get(first["next"]).json()
    # then
    assert [c["id"] for c in first["results"]] == [c.pk for c in contacts[:2]]
    assert [c["id"] for c in second["results"]] == [c.pk for c in contacts[2:4]]
    assert "count" not in first


def test_the_first_page_costs_a_constant_number_of_queries(
    api, company, agent, django_assert_num_queries
):
    # given
    for _ in range(30):
        ContactFactory(company=company, primary_agent=agent)
    # when / then: key, last used (not again within a minute: touched by the first call),
    # the page with its agents joined
    api.get(URL)
    with django_assert_num_queries(2):
        assert len(ids(api.get(URL))) == 30


# --- Create -----------------------------------------------------------------------------------
def test_create_answers_201_with_the_contact_and_a_timeline_row_by_the_key(company):
    # given
    api = client_for(company, name="CRM sync")
    # when
    response = api.post(
        URL,
        {
            "name": "Olivia Nguyen",
            "phone": "(202) 555-0142",
            "email": "Olivia@Example.com",
            "source": "crm",
            "tags": " vip,buyer , VIP",
        },
        format="json",
    )
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phone"] == "+12025550142"
    assert body["email"] == "olivia@example.com"
    assert body["tags"] == "vip, buyer"
    assert body["primary_agent"] is None
    row = TimelineEntry.objects.get(contact_id=body["id"])
    assert row.message == "Contact created from crm by API key “CRM sync”."


def test_create_with_a_primary_agent_assigns_them_and_emails_them_once(
    api, company, agent, django_capture_on_commit_callbacks, mailoutbox
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            URL, {"phone": "+12025550142", "primary_agent": agent.pk}, format="json"
        )
    # then
    assert response.status_code == 201
    assert response.json()["primary_agent"]["email"] == agent.email
    assert response.json()["ownership_version"] == 1
    assert [m.to for m in mailoutbox] == [[agent.email]]
    assert PrimaryLoad.objects.get(agent=agent).contacts == 1


def test_create_with_a_primary_agent_needs_the_routing_scope_too(company, agent):
    # given a key that may write contacts but not choose who owns them
    writer = client_for(company, scopes=[Scope.READ, Scope.WRITE])
    # when
    refused = writer.post(URL, {"phone": "+12025550142", "primary_agent": agent.pk}, "json")
    unowned = writer.post(URL, {"phone": "+12025550143", "primary_agent": None}, "json")
    # then: 403 naming the scope, nothing created; without an owner it may still create
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert "“routing”" in refused.json()["detail"]
    assert not Contact.objects.filter(phone="+12025550142").exists()
    assert unowned.status_code == 201
    assert unowned.json()["primary_agent"] is None


def test_create_without_a_primary_agent_applies_the_routing_rules(api, company):
    # given a catch-all round-robin rule of one available agent
    ava = online(AgentFactory(companies=[company], full_name="Ava Patel"))
    rule = RoutingRule.objects.create(
        company=company, name="everyone", position=0, method="round_robin"
    )
    RuleMember.objects.create(rule=rule, agent=ava)
    # when
    response = api.post(URL, {"phone": "+12025550142"}, format="json")
    # then
    assert response.status_code == 201
    assert response.json()["primary_agent"]["id"] == ava.pk
    assert Round.objects.filter(contact_id=response.json()["id"], rule=rule).exists()


def test_a_rule_for_a_tag_sees_the_new_contacts_tags(api, company):
    # given
    ava = online(AgentFactory(companies=[company]))
    rule = RoutingRule.objects.create(
        company=company, name="vips", position=0, method="round_robin", tag="vip"
    )
    RuleMember.objects.create(rule=rule, agent=ava)
    # when
    tagged = api.post(URL, {"phone": "+12025550142", "tags": "VIP"}, format="json").json()
    plain = api.post(URL, {"phone": "+12025550143"}, format="json").json()
    # then
    assert tagged["primary_agent"]["id"] == ava.pk
    assert plain["primary_agent"] is None


def test_a_duplicate_phone_is_a_400_naming_the_field(api, company):
    # given
    existing = ContactFactory(company=company, name="Olivia", phone="+12025550142")
    # when
    response = api.post(URL, {"phone": "202-555-0142"}, format="json")
    # then
    assert response.status_code == 400
    assert response.json()["errors"]["phone"] == [
        f"This number already belongs to Olivia (contact #{existing.pk})."
    ]


def test_create_refuses_unknown_fields_and_bad_values_by_field(api):
    # when
    unknown = api.post(URL, {"phone": "+12025550142", "owner": 3}, format="json")
    # JSON may spell a lone surrogate, which no database can store
    bad = api.post(URL, '{"phone": "12", "name": "\\ud800"}', content_type="application/json")
    # then
    assert unknown.status_code == 400
    assert unknown.json()["errors"]["non_field_errors"] == ["Unknown fields: owner."]
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"name"}  # the service is not reached
    assert bad.json()["errors"]["name"] == ["Surrogate characters are not allowed: U+D800."]
    bad = api.post(URL, {"phone": "12", "email": "nope"}, format="json")
    assert set(bad.json()["errors"]) == {"phone", "email"}
    assert Contact.objects.count() == 0


def test_a_primary_agent_of_another_company_reads_as_a_missing_id(
    api, company, other_admin, leads_agent
):
    # when
    foreign = api.post(URL, {"phone": "+12025550142", "primary_agent": other_admin.pk}, "json")
    missing = api.post(URL, {"phone": "+12025550142", "primary_agent": 999999}, "json")
    cannot = api.post(URL, {"phone": "+12025550142", "primary_agent": leads_agent.pk}, "json")
    # then: the same sentence, naming only the id sent
    for response, agent_id in ((foreign, other_admin.pk), (missing, 999999)):
        assert response.status_code == 400
        assert response.json()["errors"]["primary_agent"] == [
            f"No agent #{agent_id} can own this company's contacts: only its active agents, "
            "supervisors and admins can."
        ]
    assert cannot.status_code == 400
    assert "Gus" not in foreign.content.decode()
    assert Contact.objects.count() == 0


# --- Read, update, delete ---------------------------------------------------------------------
def test_patch_changes_the_details_with_one_timeline_row(company):
    # given
    api = client_for(company, name="CRM sync")
    contact = contact_create(company=company, actor=None, name="Olivia", phone="+12025550142")
    # when
    response = api.patch(
        f"{URL}{contact.pk}/", {"name": "Olivia Nguyen", "tags": "vip"}, format="json"
    )
    # then
    assert response.status_code == 200
    assert response.json()["name"] == "Olivia Nguyen"
    assert response.json()["tags"] == "vip"
    assert response.json()["phone"] == "+12025550142"
    row = TimelineEntry.objects.filter(contact=contact).order_by("-pk").first()
    assert row.message == "Name, Tags changed by API key “CRM sync”."


def test_patch_refuses_the_primary_agent_and_points_to_its_endpoint(api, company, agent):
    # given
    contact = ContactFactory(company=company)
    # when
    response = api.patch(f"{URL}{contact.pk}/", {"primary_agent": agent.pk}, format="json")
    # then
    assert response.status_code == 400
    assert "/primary-agent/" in response.json()["errors"]["primary_agent"][0]
    contact.refresh_from_db()
    assert contact.primary_agent is None


def test_patch_to_another_contacts_phone_is_a_400(api, company):
    # given
    ContactFactory(company=company, phone="+12025550142")
    contact = ContactFactory(company=company, phone="+12025550143")
    # when
    response = api.patch(f"{URL}{contact.pk}/", {"phone": "+1 202 555 0142"}, format="json")
    # then
    assert response.status_code == 400
    assert "already belongs" in response.json()["errors"]["phone"][0]


def test_delete_removes_the_contact_and_its_owners_count(api, company, agent):
    # given
    contact = ContactFactory(company=company, primary_agent=agent)
    # when
    response = api.delete(f"{URL}{contact.pk}/")
    # then
    assert response.status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert PrimaryLoad.objects.get(agent=agent).contacts == 0
    assert api.get(f"{URL}{contact.pk}/").status_code == 404


# --- Timeline and interactions ----------------------------------------------------------------
def test_the_timeline_is_newest_first_with_a_cursor(api, company, agent, supervisor):
    # given
    contact = contact_create(company=company, actor=None, phone="+12025550142")
    contact_assign_primary_agent(contact=contact, agent=agent, actor=supervisor)
    # when
    page = api.get(f"{URL}{contact.pk}/timeline/", {"limit": 1}).json()
    rest = api.get(page["next"]).json()
    # then
    assert page["results"][0]["kind"] == "primary_assigned"
    assert page["results"][0]["actor"]["email"] == supervisor.email
    assert page["results"][0]["agent"]["email"] == agent.email
    assert [r["kind"] for r in rest["results"]] == ["contact_created"]


def test_the_interactions_are_newest_first(api, company):
    # given
    first, _ = inbound_receive(company=company, channel="text", phone="+12025550142", body="a")
    second, _ = inbound_receive(company=company, channel="form", phone="+12025550142", body="b")
    # when
    listed = api.get(f"{URL}{first.contact_id}/interactions/").json()["results"]
    # then
    assert [(i["id"], i["body"]) for i in listed] == [(second.pk, "b"), (first.pk, "a")]
    assert listed[0]["pool"] == "active"


# --- Scopes and IDOR --------------------------------------------------------------------------
def test_a_read_only_key_gets_403_on_every_write(company):
    # given
    api = client_for(company, scopes=[Scope.READ])
    contact = ContactFactory(company=company)
    # when / then
    writes = [
        api.post(URL, {"phone": "+12025550100"}, format="json"),
        api.patch(f"{URL}{contact.pk}/", {"name": "x"}, format="json"),
        api.delete(f"{URL}{contact.pk}/"),
        api.put(f"{URL}{contact.pk}/primary-agent/", {"agent": None}, format="json"),
        api.delete(f"{URL}{contact.pk}/primary-agent/"),
        api.post(f"{URL}primary-agent/bulk/", {"items": []}, format="json"),
        api.post("/api/v1/interactions/inbound/", {"channel": "text"}, format="json"),
    ]
    assert [r.status_code for r in writes] == [403] * len(writes)
    assert Contact.objects.filter(company=company).count() == 1


def test_a_key_of_another_company_gets_404_on_every_contact_url(other_api, company, agent):
    # given
    contact = ContactFactory(company=company, primary_agent=agent)
    base = f"{URL}{contact.pk}/"
    # when
    answers = {
        "read": other_api.get(base),
        "patch": other_api.patch(base, {"name": "x"}, format="json"),
        "delete": other_api.delete(base),
        "timeline": other_api.get(f"{base}timeline/"),
        "interactions": other_api.get(f"{base}interactions/"),
        "set": other_api.put(f"{base}primary-agent/", {"agent": None}, format="json"),
        "clear": other_api.delete(f"{base}primary-agent/"),
    }
    # then
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404)
    assert ids(other_api.get(URL, {"phone": contact.phone})) == []
    contact.refresh_from_db()
    assert contact.primary_agent == agent and contact.name != "x"


def test_odd_filter_values_are_answered_not_failed(api, company):
    # given
    ContactFactory(company=company, tags="vip")
    # when / then
    assert ids(api.get(URL, {"primary_agent": "9" * 30})) == []
    assert api.get(URL, {"tag": "vip\x00"}).status_code == 400
    assert api.get(URL, {"tag": "vip, buyer"}).json()["errors"]["tag"]
    assert ids(api.get(URL, {"tag": "c++ (gold)"})) == []


def test_ids_past_64_bits_are_a_400(api, company):
    # when
    response = api.post(URL, {"phone": "+12025550142", "primary_agent": 2**64}, format="json")
    # then
    assert response.status_code == 400
    assert "primary_agent" in response.json()["errors"]
