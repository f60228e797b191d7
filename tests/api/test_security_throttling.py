"""Throttling (security review): wrong API keys are counted per address (429 with Retry-After
past the limit; a right key always works; apart from the webhook's wrong tokens), and the
per-key rate limit counts atomically in a fixed one-minute window."""

import contextlib
import json
import threading
from types import SimpleNamespace

import pytest
from django.core.cache import caches
from django.utils import timezone
from rest_framework.test import APIClient

from agents.services import company_set_webhook_token
from api import throttling
from api.keys import api_key_revoke
from api.models import ApiKey
from api.throttling import PerKeyThrottle
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"
GUESSER, NEIGHBOUR = "203.0.113.7", "198.51.100.9"


def with_key(raw: str | None, address: str = GUESSER):
    client = APIClient(REMOTE_ADDR=address)
    if raw is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.get(URL)


@pytest.fixture
def limit_3(settings):
    settings.WEBHOOK_TOKEN_FAILURE_LIMIT = 3
    settings.WEBHOOK_TOKEN_FAILURE_WINDOW_SECONDS = 60


# --- Wrong keys, per address -------------------------------------------------------------------
def test_wrong_keys_past_the_limit_from_one_address_get_429_with_retry_after(limit_3):
    # given three wrong keys from one address, each a 401
    assert [with_key(f"sbk_guess_{i}").status_code for i in range(3)] == [401] * 3
    # when it sends a fourth
    response = with_key("sbk_guess_4")
    # then it is throttled, as problem details saying how long to wait
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["detail"] == (
        f"Too many wrong API keys from your address: try again in {response['Retry-After']} "
        "seconds with Authorization: Bearer <API key>."
    )
    # and another address is not
    assert with_key("sbk_guess_5", address=NEIGHBOUR).status_code == 401


def test_a_right_key_works_from_a_throttled_address(limit_3, company):
    # given an address past the limit
    raw = client_for(company).raw_key
    for i in range(5):
        with_key(f"sbk_guess_{i}")
    assert with_key("sbk_guess_again").status_code == 429
    # when the right key comes from there
    response = with_key(raw)
    # then it works
    assert response.status_code == 200


def test_revoked_expired_and_malformed_keys_count_as_wrong_but_no_key_does_not(limit_3, company):
    # given a revoked and an expired key
    revoked = client_for(company).raw_key
    api_key_revoke(key=ApiKey.objects.get(key_hash=ApiKey.hash(revoked)))
    expired = client_for(company, name="old").raw_key
    ApiKey.objects.filter(key_hash=ApiKey.hash(expired)).update(
        expires_at=timezone.now() - timezone.timedelta(days=1)
    )
    # when requests without a key come, then the three wrong ones
    missing = [with_key(None).status_code for _ in range(5)]
    wrong = [with_key(raw).status_code for raw in (revoked, expired, "sbk_é")]
    # then no key is a plain 401 each time; the wrong ones reach the limit
    assert missing == [401] * 5
    assert wrong == [401] * 3
    assert with_key("sbk_guess").status_code == 429


def test_wrong_api_keys_and_wrong_webhook_tokens_are_counted_apart(limit_3, client, company):
    # given an address past the API's limit
    company_set_webhook_token(company=company, token="sbw_right_token")
    for i in range(4):
        with_key(f"sbk_guess_{i}")
    assert with_key("sbk_guess").status_code == 429
    # when it sends a wrong webhook token
    hook = client.post(
        "/api/inbound/",
        data=json.dumps({"channel": "text", "phone": "+12025550142", "body": "Hi"}),
        content_type="application/json",
        headers={"Authorization": "Bearer sbw_wrong"},
        REMOTE_ADDR=GUESSER,
    )
    # then the webhook answers as before: its own count has one failure
    assert hook.status_code == 401
    assert hook.json()["error"].startswith("Missing or wrong token")


# --- The per-key rate limit -------------------------------------------------------------------
def test_the_rate_limit_is_a_fixed_minute_with_retry_after_to_its_end(
    company, settings, monkeypatch
):
    # given a limit of 2 a minute, 45 seconds into a minute
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    minute = 60 * 29_000_000
    monkeypatch.setattr(throttling.time, "time", lambda: minute + 45.2)
    api = client_for(company)
    assert [api.get(URL).status_code for _ in range(2)] == [200, 200]
    # when a third request comes in the same minute
    refused = api.get(URL)
    # then it waits for the minute's end; the next minute counts from zero
    assert refused.status_code == 429
    assert refused["Retry-After"] == "15"
    assert "try again in 15 seconds" in refused.json()["detail"]
    monkeypatch.setattr(throttling.time, "time", lambda: minute + 60.1)
    assert api.get(URL).status_code == 200


def test_parallel_requests_cannot_undercount_the_rate_limit(settings, monkeypatch):
    # given a limit of 1 a minute, and two requests that both read the cache before either
    # writes to it (what a read-modify-write count lets through)
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    backend = type(caches["default"])  # each thread has its own instance of it
    both_read = threading.Barrier(2, timeout=2)
    real_get = backend.get

    def get_together(self, *args, **kwargs):
        value = real_get(self, *args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()  # until the other request has read too
        return value

    monkeypatch.setattr(backend, "get", get_together)
    request = SimpleNamespace(auth=SimpleNamespace(pk=424242))
    allowed: list[bool] = []

    def send() -> None:
        allowed.append(PerKeyThrottle().allow_request(request, None))

    threads = [threading.Thread(target=send) for _ in range(2)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # then exactly one of them is let through
    assert sorted(allowed) == [False, True]
