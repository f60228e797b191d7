"""The API's shared behaviour: keys and scopes, company scoping, problem details, the rate
limit, idempotency, the key as the timeline's actor."""

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
