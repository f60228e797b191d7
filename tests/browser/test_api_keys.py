"""An admin creates an API key in the Django admin, sees it once, uses it against the running
server, revokes it, and it stops working."""

import pytest
import requests

from api.models import ApiKey
from tests.browser.csp import watch_csp
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 390], ids=["desktop", "390px"])
def test_an_admin_creates_uses_and_revokes_an_api_key(
    page, live_server, company, company_admin, screenshot, width
):
    # given the company's admin in the admin, watching for CSP violations
    page.set_viewport_size({"width": width, "height": 860})
    violations = watch_csp(page)
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    # when they add a key named "CRM sync" with read and routing
    page.goto("/admin/api/apikey/add/")
    page.fill("#id_name", "CRM sync")
    page.check("input[name=scopes][value=read]")
    page.check("input[name=scopes][value=routing]")
    screenshot(page, f"api-key-add-{width}")
    page.click("input[name=_save]")
    # then the next page shows the key once, with what it is
    page.wait_for_selector("#api-key-created")
    raw = page.input_value("#api-key-raw")
    assert raw.startswith("sbk_")
    assert "only time it is shown" in page.inner_text("#content")
    screenshot(page, f"api-key-created-{width}")
    # and the key reads the company's contacts from the running server
    url = f"{live_server.url}/api/v1/contacts/"
    answer = requests.get(url, headers={"Authorization": f"Bearer {raw}"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["results"] == []
    # and the list shows its prefix, its scopes and that it works, never the key
    page.click("text=I have copied it")
    page.wait_for_selector("#result_list")
    row = page.locator("#result_list tr", has_text="CRM sync")
    assert raw[:12] in row.inner_text() and "read, routing" in row.inner_text()
    assert "Active" in row.inner_text()
    assert raw not in page.content()
    screenshot(page, f"api-key-list-{width}")
    # when they revoke it (asked first, then confirmed)
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "revoke")
    page.click("button[name=index]")
    page.wait_for_selector("text=Revoke 1 key?")
    screenshot(page, f"api-key-revoke-{width}")
    page.click("input[value=Revoke]")
    page.wait_for_selector(".messagelist .success")
    assert "Revoked 1 key(s): CRM sync" in page.inner_text(".messagelist")
    # then the list says so and the key no longer works
    assert "Revoked" in page.locator("#result_list tr", has_text="CRM sync").inner_text()
    screenshot(page, f"api-key-revoked-{width}")
    refused = requests.get(url, headers={"Authorization": f"Bearer {raw}"}, timeout=10)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert ApiKey.objects.get().revoked_at is not None
    assert violations == []
