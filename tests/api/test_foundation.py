"""The API's shared behaviour: keys and scopes, company scoping, problem details, the rate
limit, idempotency, the key as the timeline's actor."""

import base64

import pytest
from django.test import override_settings
from django.utils import timezone

from api.keys import api_key_revoke
from api.models import ApiKey, Scope
from tests.api.conftest import client_for
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_no_key_is_401_problem_with_www_authenticate(client):
    # when
    response = client.get("/api/v1/contacts/")
    # then
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


def test_wrong_revoked_and_expired_keys_are_refused(company):
    # given
    good = client_for(company)
    key = ApiKey.objects.get(key_hash=ApiKey.hash(good.raw_key))
    assert good.get("/api/v1/contacts/").status_code == 200
    # when / then
    api_key_revoke(key=key)
    assert good.get("/api/v1/contacts/").status_code == 401
    other = client_for(company)
    ApiKey.objects.filter(key_hash=ApiKey.hash(other.raw_key)).update(
        expires_at=timezone.now() - timezone.timedelta(minutes=1)
    )
    answer = other.get("/api/v1/contacts/")
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


def test_a_key_without_read_gets_403_naming_the_scope(company):
    api = client_for(company, scopes=[Scope.WRITE])
    response = api.get("/api/v1/contacts/")
    assert response.status_code == 403
    assert "“read”" in response.json()["detail"]


def test_a_key_sees_only_its_company(company, other_company):
    # given
    mine = ContactFactory(company=company)
    theirs = ContactFactory(company=other_company)
    api = client_for(company)
    # when
    listed = api.get("/api/v1/contacts/").json()["results"]
    # then
    assert [c["id"] for c in listed] == [mine.pk]
    assert api.get(f"/api/v1/contacts/{theirs.pk}/").status_code == 404


def test_search_by_phone_in_any_format(company):
    contact = ContactFactory(company=company, phone="+12025550143")
    api = client_for(company)
    for spelling in ("(202) 555-0143", "202.555.0143", "+1 202 555 0143"):
        found = api.get("/api/v1/contacts/", {"phone": spelling}).json()["results"]
        assert [c["id"] for c in found] == [contact.pk], spelling


@override_settings(API_RATE_LIMIT_PER_MINUTE=3)
def test_the_rate_limit_answers_429_with_retry_after(company):
    api = client_for(company)
    for _ in range(3):
        assert api.get("/api/v1/contacts/").status_code == 200
    response = api.get("/api/v1/contacts/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response.json()["type"] == "urn:switchboard:problem:rate-limited"


def test_a_cursor_or_limit_that_cannot_be_read_is_a_400_naming_it(company):
    api = client_for(company)
    bad_cursor = api.get("/api/v1/contacts/", {"cursor": "zzz"})
    assert bad_cursor.status_code == 400
    assert "cursor" in bad_cursor.json()["errors"]
    for limit in ("0", "-1", "abc"):
        answer = api.get("/api/v1/contacts/", {"limit": limit})
        assert answer.status_code == 400, limit
        assert answer.json()["errors"]["limit"] == ["A whole number from 1 to 200."]


@pytest.mark.parametrize("position", ["abc", "²", "1e5", "-3", str(2**63)])
@pytest.mark.parametrize("path", ["/api/v1/contacts/", "/api/v1/agents/", "/api/v1/centers/"])
def test_a_forged_cursor_is_a_400_not_a_500(company, path, position):
    # A cursor is base64 of its query string; DRF used to hand "p=abc" to the id filter.
    cursor = base64.b64encode(f"p={position}".encode()).decode()
    answer = client_for(company).get(path, {"cursor": cursor})
    assert answer.status_code == 400, (path, position)
    assert "cursor" in answer.json()["errors"]


def test_a_limit_above_the_maximum_gives_the_maximum(company):
    ContactFactory.create_batch(3, company=company)
    page = client_for(company).get("/api/v1/contacts/", {"limit": "100000"})
    assert page.status_code == 200 and len(page.json()["results"]) == 3


def test_an_address_under_the_api_that_names_nothing_is_a_problem_404(company):
    api = client_for(company)
    for path in ("/api/v1/contacts/null/", "/api/v1/contacts/-5/", "/api/v1/nothing/"):
        answer = api.get(path)
        assert answer.status_code == 404, path
        assert answer["Content-Type"] == "application/problem+json"
        assert answer.json()["title"] == "Not found"
    missing_slash = api.get("/api/v1/contacts")
    assert "Did you mean /api/v1/contacts/" in missing_slash.json()["detail"]


def test_a_refusal_replayed_by_its_idempotency_key_is_still_problem_details(company):
    # given a contact owned by Ava, and a compare-and-set that expects Ben (refused: 409)
    from tests.factories import AgentFactory

    ava, ben = AgentFactory(companies=[company]), AgentFactory(companies=[company])
    contact = ContactFactory(company=company, primary_agent=ava)
    api = client_for(company)
    url = f"/api/v1/contacts/{contact.pk}/primary-agent/"
    body = {"agent": ben.pk, "expected_agent": ben.pk}
    first = api.put(url, body, format="json", HTTP_IDEMPOTENCY_KEY="cas-1")
    assert first.status_code == 409
    # when the same request is sent again with the same key
    again = api.put(url, body, format="json", HTTP_IDEMPOTENCY_KEY="cas-1")
    # then it replays the refusal, as problem details
    assert again.status_code == 409
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == "application/problem+json"
    assert again.json() == first.json()


def test_a_key_sent_without_bearer_is_told_how_to_send_it(company):
    raw = client_for(company).raw_key
    from rest_framework.test import APIClient

    answer = APIClient().get("/api/v1/contacts/", HTTP_AUTHORIZATION=raw)
    assert answer.status_code == 401
    assert answer.json()["detail"].startswith("Send the key as Authorization: Bearer <API key>")


def test_broken_json_is_a_400_in_the_apis_words(company):
    answer = client_for(company).post("/api/v1/contacts/", "{bad", content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("The body is not valid JSON: Expecting property")
    assert answer.json()["type"] == "urn:switchboard:problem:bad-request"


def test_a_phone_search_for_something_that_is_no_number_says_so(company):
    answer = client_for(company).get("/api/v1/contacts/", {"phone": "hello"})
    assert answer.status_code == 400
    assert "phone" in answer.json()["errors"]
