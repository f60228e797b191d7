"""Security settings and hardening: the secret key, hostile input that must not become a 500."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.services import company_set_webhook_token
from contacts.models import Interaction
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def _import_settings(**overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "HTTPS"}}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", **overrides},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("https", ["0", "1"])
def test_debug_off_refuses_to_start_on_the_built_in_key(https):
    # given DEBUG off and no SECRET_KEY (with or without HTTPS)
    # when the settings load
    result = _import_settings(DEBUG="0", HTTPS=https)
    # then they refuse, saying what to set
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "Set SECRET_KEY to a long random string" in result.stderr


def test_debug_off_refuses_the_placeholder_of_env_example():
    result = _import_settings(DEBUG="0", SECRET_KEY="change-me")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_debug_on_runs_on_the_built_in_key_and_debug_off_on_a_real_one():
    # make run (DEBUG=1) needs nothing set
    assert _import_settings(DEBUG="1").returncode == 0
    # production sets its own key
    result = _import_settings(DEBUG="0", SECRET_KEY="a-real-key-" + "Zq8#pL2!" * 6)
    assert result.returncode == 0, result.stderr


# --- A session cookie no session could have ---------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    "database", [pytest.param("postgres", marks=pytest.mark.postgres), "any database"]
)
@pytest.mark.parametrize("cookie", ["ab\x00c", "ab\x00cdefghijklmnopqrstuvwxyz012345", "x" * 5000])
def test_a_broken_session_cookie_is_an_anonymous_visitor(client, agent, database, cookie):
    # given a request whose session cookie holds a NUL byte (or is absurdly long)
    client.cookies["sessionid"] = cookie
    # when it opens a page that needs a login
    response = client.get("/lead-center/")
    # then it is sent to the login page like anyone not logged in
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    login_page = client.get("/login/")
    assert login_page.status_code == 200
    assert "Log in to Switchboard" in login_page.content.decode()
    # and logging in still works (a fresh, valid session replaces the broken cookie)
    response = client.post("/login/", {"username": agent.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/lead-center/").status_code == 200


# --- The inbound webhook's headers --------------------------------------------------------------
WEBHOOK_TOKEN = "sbw_security_token"
TEXT = {"channel": "text", "phone": "+12025550142", "body": "Hello"}


@pytest.fixture
def webhook(client, company):
    company_set_webhook_token(company=company, token=WEBHOOK_TOKEN)

    def _post(*, extra=None, **headers):
        return client.post(
            "/api/inbound/",
            data=json.dumps(TEXT),
            content_type="application/json",
            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}", **headers},
            **(extra or {}),
        )

    return _post


@pytest.mark.django_db
@pytest.mark.parametrize(
    "database", [pytest.param("postgres", marks=pytest.mark.postgres), "any database"]
)
@pytest.mark.parametrize("key", ["ab\x00c", "line\nbreak", "\x7f"])
def test_webhook_refuses_an_idempotency_key_with_control_characters(webhook, database, key):
    # when a sender puts a NUL (or another control character) in the Idempotency-Key
    response = webhook(**{"Idempotency-Key": key})
    # then it is told so, and nothing is recorded
    assert response.status_code == 400
    assert response.json()["errors"]["Idempotency-Key"] == [
        "Only printable characters (no NUL or control characters)."
    ]
    assert not Interaction.objects.exists()
    # while an ordinary key still works
    assert webhook(**{"Idempotency-Key": "order-42"}).status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("declared", ["abc", "-5", "1e3", "١٢"])
def test_webhook_refuses_a_content_length_that_is_not_a_number(webhook, declared):
    # when the Content-Length header is not a number of bytes (runserver passes it on)
    response = webhook(extra={"CONTENT_LENGTH": declared})
    # then the answer is a 400 saying so, as JSON
    assert response.status_code == 400
    assert response.json() == {"error": "The Content-Length header must be a number of bytes."}
    assert not Interaction.objects.exists()
