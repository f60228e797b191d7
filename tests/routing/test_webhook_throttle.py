"""Wrong webhook tokens are counted per address: past the limit within the window the address
gets 429 JSON with Retry-After; the right token keeps working, for its company, from there too."""

import json
import time
from types import SimpleNamespace

import pytest

from agents.services import company_set_webhook_token
from contacts.models import Interaction
from routing.webhook import token_failures_clear

pytestmark = pytest.mark.django_db
TOKEN = "sbw_test_token_throttle"
TEXT = {"channel": "text", "phone": "+12025550142", "body": "Still free?"}
GUESSER, NEIGHBOUR = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def hook(client, company, settings):
    settings.WEBHOOK_TOKEN_FAILURE_LIMIT = 5
    settings.WEBHOOK_TOKEN_FAILURE_WINDOW_SECONDS = 60
    company_set_webhook_token(company=company, token=TOKEN)
    for address in (GUESSER, NEIGHBOUR):
        token_failures_clear(address)

    def _post(token=TOKEN, address=GUESSER):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return client.post(
            "/api/inbound/",
            data=json.dumps(TEXT),
            content_type="application/json",
            headers=headers,
            REMOTE_ADDR=address,
        )

    yield _post
    for address in (GUESSER, NEIGHBOUR):
        token_failures_clear(address)


def test_wrong_tokens_past_the_limit_are_answered_429_with_retry_after(hook):
    # given five wrong tokens from one address, each a 401
    assert [hook(token=f"sbw_guess_{i}").status_code for i in range(5)] == [401] * 5
    # when it sends a sixth (or none at all)
    response = hook(token="sbw_guess_6")
    missing = hook(token=None)
    # then it is throttled: 429, JSON, and how long to wait
    assert response.status_code == 429 and missing.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith("Too many missing or wrong tokens")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert f"try again in {response['Retry-After']} seconds" in response.json()["error"]
    assert not Interaction.objects.exists()


def test_the_right_token_works_from_a_throttled_address(hook):
    # given an address past the limit
    for i in range(7):
        hook(token=f"sbw_guess_{i}")
    assert hook(token="sbw_guess_again").status_code == 429
    # when the company's own token comes from that address
    response = hook()
    # then it is stored as always, and wrong tokens are still throttled afterwards
    assert response.status_code == 201
    assert Interaction.objects.count() == 1
    assert hook(token="sbw_guess_more").status_code == 429


def test_another_address_is_not_throttled(hook):
    for i in range(7):
        hook(token=f"sbw_guess_{i}")
    # a wrong token from another address is a plain 401
    response = hook(token="sbw_typo", address=NEIGHBOUR)
    assert response.status_code == 401
    assert "Retry-After" not in response


def test_the_count_starts_again_in_the_next_window(hook, monkeypatch):
    # given an address throttled now
    for i in range(6):
        hook(token=f"sbw_guess_{i}")
    assert hook(token="sbw_guess").status_code == 429
    # when the window has passed
    later = time.time() + 61
    monkeypatch.setattr("routing.webhook.time", SimpleNamespace(time=lambda: later))
    # then wrong tokens are a 401 again
    assert hook(token="sbw_guess").status_code == 401


def test_a_right_token_costs_no_cache_operation(hook, monkeypatch):
    # given a cache that fails on any use
    def broken(*args, **kwargs):
        raise AssertionError("the cache was used")

    for name in ("get", "incr", "add", "set"):
        monkeypatch.setattr(f"routing.webhook.cache.{name}", broken)
    # when the right token comes, then it is answered without touching the cache
    assert hook().status_code == 201


def test_with_the_cache_down_a_wrong_token_is_a_plain_401(hook, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr("routing.webhook.cache.incr", down)
    assert hook(token="sbw_guess").status_code == 401


def test_a_limit_of_zero_turns_the_throttle_off(hook, settings):
    settings.WEBHOOK_TOKEN_FAILURE_LIMIT = 0
    assert {hook(token=f"sbw_guess_{i}").status_code for i in range(8)} == {401}
