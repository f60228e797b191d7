"""API keys in the Django admin: a company's admins create them (shown once), change and
revoke them; nobody else sees them, and no admin sees another company's."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.keys import api_key_create, api_key_revoke
from api.models import ApiKey, Scope
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/api/apikey/add/"
LIST = "/admin/api/apikey/"


def _raw_key_on(page: str) -> str:
    found = re.search(r'id="api-key-raw"[^>]*value="([^"]+)"', page)
    assert found, "the new key is not on the page"
    return found.group(1)


def _api_with(raw: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def test_an_admin_creates_a_key_sees_it_once_and_it_works(login, company, company_admin):
    # given the company's admin on the add page
    client = login(company_admin)
    # when they save a key named "CRM sync" with read and routing
    response = client.post(ADD, {"name": "CRM sync", "scopes": ["routing", "read"]})
    # then the page after the save shows the raw key, once, and says so
    assert response.status_code == 200
    page = response.content.decode()
    raw = _raw_key_on(page)
    assert "the only time it is shown" in page
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get()
    assert key.key_hash == ApiKey.hash(raw) and raw not in (key.prefix, key.key_hash)
    assert (key.company, key.name, key.created_by) == (company, "CRM sync", company_admin)
    assert key.scopes == ["read", "routing"]
    # and the key reads the company's API
    assert _api_with(raw).get("/api/v1/contacts/").status_code == 200
    # and the list and the key's page show only its prefix, never the key again
    for url in (LIST, f"/admin/api/apikey/{key.pk}/change/"):
        shown = client.get(url).content.decode()
        assert f"{key.prefix}…" in shown
        assert raw not in shown


def test_the_list_shows_prefix_scopes_last_use_expiry_and_status(login, company, company_admin):
    # given a used key, an expired-tomorrow key and a revoked one
    used, _ = api_key_create(company=company, name="Billing", scopes=["read"], created_by=None)
    ApiKey.objects.filter(pk=used.pk).update(
        last_used_at=timezone.make_aware(timezone.datetime(2026, 3, 4, 15, 30))
    )
    later, _ = api_key_create(
        company=company,
        name="Warehouse",
        scopes=["read", "write"],
        created_by=company_admin,
        expires_at=timezone.now() + timedelta(days=1),
    )
    gone, _ = api_key_create(company=company, name="Old Zap", scopes=["write"], created_by=None)
    api_key_revoke(key=gone)
    # when the admin opens the list
    page = login(company_admin).get(LIST).content.decode()
    # then each row says what the key is and whether it works
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(r"<tr>.*?>(Billing|Warehouse|Old Zap)<.*?</tr>", page, re.S)
    }
    assert set(rows) == {"Billing", "Warehouse", "Old Zap"}
    assert used.prefix in rows["Billing"] and "Active" in rows["Billing"]
    assert "read, write" in rows["Warehouse"] and "Active" in rows["Warehouse"]
    assert "Revoked" in rows["Old Zap"]
    assert "Never" not in rows["Billing"] and "-" in rows["Old Zap"]


def test_the_scopes_are_checkboxes_that_say_what_each_allows(login, company_admin):
    page = login(company_admin).get(ADD).content.decode()
    for scope in Scope.values:
        assert f'type="checkbox" name="scopes" value="{scope}"' in page
    assert "the routing dry run" in page
    assert "set or clear the primary agent" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "No scope"}, "scopes", "Pick at least one scope"),
        (
            {
                "name": "Stale",
                "scopes": ["read"],
                "expires_at_0": "2020-01-01",
                "expires_at_1": "10:00",
            },
            "expires_at",
            "The expiry must be in the future.",
        ),
    ],
    ids=["no-scope", "expiry-in-the-past"],
)
def test_a_refused_key_keeps_the_form_with_the_error_by_its_field(
    login, company_admin, data, field, message
):
    # when
    response = login(company_admin).post(ADD, data)
    # then
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors[field])
    assert 'id="api-key-raw"' not in response.content.decode()
    assert not ApiKey.objects.exists()


def test_an_expiry_in_the_future_is_kept_and_the_key_stops_then(login, company, company_admin):
    # given
    client = login(company_admin)
    # when
    response = client.post(
        ADD,
        {
            "name": "Trial",
            "scopes": ["read"],
            "expires_at_0": "2099-05-01",
            "expires_at_1": "09:00",
        },
    )
    # then the expiry is the company's local time (New York)
    raw = _raw_key_on(response.content.decode())
    key = ApiKey.objects.get()
    assert key.expires_at.astimezone(ZoneInfo("America/New_York")).hour == 9
    assert "expires on 2099-05-01 09:00" in response.content.decode()
    # and once past, the key is refused
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _api_with(raw).get("/api/v1/contacts/").status_code == 401


def test_an_admin_changes_a_keys_name_and_scopes(login, company, company_admin):
    # given a read-only key
    key, raw = api_key_create(company=company, name="Sync", scopes=["read"], created_by=None)
    assert _api_with(raw).post("/api/v1/contacts/", {}, format="json").status_code == 403
    # when the admin adds write and renames it
    response = login(company_admin).post(
        f"/admin/api/apikey/{key.pk}/change/", {"name": "CRM sync", "scopes": ["read", "write"]}
    )
    # then
    assert response.status_code == 302
    key.refresh_from_db()
    assert (key.name, key.scopes, key.key_hash) == ("CRM sync", ["read", "write"], ApiKey.hash(raw))


def test_revoke_asks_first_then_the_key_stops_working(login, company, company_admin):
    # given two working keys, one already revoked
    key, raw = api_key_create(company=company, name="Zapier", scopes=["read"], created_by=None)
    old, _ = api_key_create(company=company, name="Old", scopes=["read"], created_by=None)
    api_key_revoke(key=old)
    client = login(company_admin)
    selection = {"action": "revoke", "_selected_action": [key.pk, old.pk]}
    # when the admin picks Revoke: a page that asks first, changing nothing
    asked = client.post(LIST, selection)
    assert "Revoke 1 key?" in asked.content.decode()
    assert "1 of the selected keys was revoked already" in asked.content.decode()
    assert _api_with(raw).get("/api/v1/contacts/").status_code == 200
    # and confirms
    done = client.post(LIST, {**selection, "apply": "1"}, follow=True)
    # then
    assert "Revoked 1 key(s): Zapier" in done.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    answer = _api_with(raw).get("/api/v1/contacts/")
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    # and its page is read-only: no save button
    page = client.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()
    assert "Revoked" in page and 'name="_save"' not in page


def test_keys_are_never_deleted_in_the_admin(login, company, company_admin):
    key, _ = api_key_create(company=company, name="Keep", scopes=["read"], created_by=None)
    client = login(company_admin)
    assert 'value="delete_selected"' not in client.get(LIST).content.decode()
    assert client.get(f"/admin/api/apikey/{key.pk}/delete/").status_code == 403


@pytest.mark.parametrize("level", ["supervisor", "agent", "leads_agent"])
def test_only_admins_reach_the_keys(request, login, company, level):
    # given a key and a person of another access level
    api_key_create(company=company, name="CRM", scopes=["read"], created_by=None)
    person = request.getfixturevalue(level)
    client = login(person)
    # when / then: not in the admin at all (only admins are staff), neither list nor add
    for url in (LIST, ADD):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_admin_never_sees_another_companys_keys(login, company, other_company, other_admin):
    # given a key of Acme
    key, _ = api_key_create(company=company, name="Acme CRM", scopes=["read"], created_by=None)
    client = login(other_admin)
    # when Globex's admin opens the list, the key's page and tries to revoke it
    listed = client.get(LIST).content.decode()
    opened = client.get(f"/admin/api/apikey/{key.pk}/change/", follow=True)
    client.post(LIST, {"action": "revoke", "_selected_action": [key.pk], "apply": "1"})
    # then nothing of Acme's shows and the key still works
    assert "Acme CRM" not in listed
    assert "Acme CRM" not in opened.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_new_key_belongs_to_the_admins_current_company(login, company, other_company):
    # given an admin of both companies working in Globex
    admin_of_both = AgentFactory(access_level="admin", companies=[company, other_company])
    client = login(admin_of_both)
    client.post("/company/", {"company": other_company.pk, "next": "/admin/"})
    # when they create a key
    response = client.post(ADD, {"name": "Globex sync", "scopes": ["read"]})
    # then it is Globex's and sees Globex only
    raw = _raw_key_on(response.content.decode())
    assert ApiKey.objects.get().company == other_company
    assert _api_with(raw).get("/api/v1/contacts/").status_code == 200


def test_someone_not_logged_in_gets_the_login_page_not_the_keys(client, company):
    # given a key
    api_key_create(company=company, name="CRM", scopes=["read"], created_by=None)
    # when someone not logged in opens the admin's login page and the keys
    login_page = client.get("/admin/login/")
    keys = client.get(LIST)
    # then the login page opens, and the keys send them to it
    assert login_page.status_code == 200
    assert keys.status_code == 302 and "/login/" in keys["Location"]
