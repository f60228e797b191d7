"""Security settings and hardening: the secret key, hostile input that must not become a 500."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from agents.permissions import parse_pk
from agents.services import company_set_webhook_token
from contacts.models import Contact, Interaction
from tests.factories import PASSWORD, ContactFactory

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


def test_commands_that_only_read_the_code_run_without_a_key_and_the_server_does_not():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env |= {"DEBUG": "0", "DJANGO_SETTINGS_MODULE": "config.settings"}

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert manage("makemigrations", "--check", "--dry-run").returncode == 0
    refused = manage("check")
    assert refused.returncode != 0 and "Set SECRET_KEY" in refused.stderr


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


# --- Ids no row can have --------------------------------------------------------------------
TOO_LARGE = "9223372036854775808"  # one more than the largest 64-bit id
DATABASES = [pytest.param("postgres", marks=pytest.mark.postgres), "any database"]


def test_parse_pk_takes_ids_up_to_the_largest_64_bit_integer_only():
    assert parse_pk(" 42 ") == 42
    assert parse_pk("9223372036854775807") == 9223372036854775807
    for typed in [TOO_LARGE, "9" * 40, "-1", "1e5", "abc", "²", "", None]:
        assert parse_pk(typed) is None


@pytest.mark.django_db
@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("typed", [TOO_LARGE, "9" * 40, "abc"])
def test_admin_contact_list_says_an_agent_filter_id_is_not_one(
    login, company, company_admin, agent, database, typed
):
    # given a contact of an agent
    ContactFactory(company=company, name="Olivia Nguyen", primary_agent=agent)
    # when the admin types an impossible agent id into the filter's address
    response = login(company_admin).get(f"/admin/contacts/contact/?primary_agent={typed}")
    # then the list opens, lists nothing and says why
    assert response.status_code == 200
    page = response.content.decode()
    assert f"“{typed}” is not an agent id: no contact listed." in page
    assert "Olivia Nguyen" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("action", ["assign_primary_agent", "delete_selected"])
@pytest.mark.parametrize("typed", [TOO_LARGE, "abc"])
def test_admin_action_on_an_impossible_id_changes_nothing_and_says_so(
    login, company, company_admin, database, action, typed
):
    contact = ContactFactory(company=company, name="Olivia Nguyen")
    client = login(company_admin)
    # when an action is posted with an id that no row can have beside a real one
    response = client.post(
        "/admin/contacts/contact/",
        {"action": action, ACTION_CHECKBOX_NAME: [str(contact.pk), typed]},
        follow=True,
    )
    # then the list comes back with a message, and the contact is untouched
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/admin/contacts/contact/")
    assert f"“{typed}” is not the id of a row: nothing was changed." in response.content.decode()
    assert Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("database", DATABASES)
def test_ids_typed_into_django_admin_lookups_never_give_a_500(
    login, company, company_admin, agent, database
):
    ContactFactory(company=company, name="Olivia Nguyen", primary_agent=agent)
    client = login(company_admin)
    client.raise_request_exception = False
    # Django's own lookups and widgets hand the typed id to the database
    for response in [
        client.get(f"/admin/contacts/timelineentry/?contact={TOO_LARGE}"),
        client.get(f"/admin/contacts/contact/?id={TOO_LARGE}"),
        client.post(
            "/admin/contacts/contact/add/",
            {"name": "Ann", "phone": "+12025550199", "primary_agent": TOO_LARGE},
        ),
        client.post(
            "/admin/contacts/contact/add/",
            {"name": "Ann", "phone": "+12025550199", "primary_agent": "abc"},
        ),
    ]:
        # then: an empty list / the form again (PostgreSQL), or a 400 that says what was wrong
        assert response.status_code in (200, 400)
        if response.status_code == 400:
            assert "is not a number any record has" in response.content.decode()
    assert Contact.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("page", ["/login/", "/admin/login/"])
@pytest.mark.parametrize("header", ["HTTP_USER_AGENT", "HTTP_ACCEPT"])
def test_a_failed_login_with_a_nul_in_its_headers_is_counted_not_a_500(
    client, agent, database, page, header
):
    # when a wrong password comes with a NUL byte in a header the lockout records
    response = client.post(
        page, {"username": agent.email, "password": "guess"}, **{header: "bot\x00/1.0"}
    )
    # then it is an ordinary failed login, and it counts towards the lockout
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()
    assert AccessAttempt.objects.get(username=agent.email).failures_since_start == 1


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["²", "abc", "-1"])
def test_odd_filter_values_do_not_break_the_contact_list(login, company_admin, value):
    response = login(company_admin).get("/admin/contacts/contact/", {"primary_agent": value})
    assert response.status_code in (200, 302)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/contacts/contact/?q=a%00b",
        "/admin/contacts/contact/?source__exact=%00",
        "/admin/contacts/timelineentry/?kind__exact=%00",
    ],
)
def test_nul_characters_in_addresses_are_a_clear_400(login, company_admin, url):
    response = login(company_admin).get(url)
    assert response.status_code == 400
    assert b"Null characters are not allowed" in response.content


@pytest.mark.django_db
def test_lead_center_search_with_nul_is_a_400_too(login, agent):
    assert login(agent).get("/lead-center/", {"q": "a\x00b"}).status_code == 400
