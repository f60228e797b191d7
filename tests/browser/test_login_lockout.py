import pytest

from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCKED = "Too many failed attempts to log in with this email from your address"


def test_a_locked_out_agent_is_told_and_an_admin_unlocks_them(
    new_page, agent, company_admin, screenshot
):
    # given an agent who mistyped the password five times
    page = new_page()
    for _ in range(5):
        browser_login(page, agent.email, "wrong")
    # then the login page says why they can't get in, even with the right password
    browser_login(page, agent.email)
    error = page.locator(".form-error")
    assert LOCKED in error.inner_text()
    assert "try again in 15 minutes or ask an admin to unlock your login" in error.inner_text()
    assert page.url.endswith("/login/")
    screenshot(page, "login-locked-out")
    # when their admin unlocks them in the admin
    admin = new_page()
    browser_login(admin, company_admin.email)
    admin.wait_for_url("**/admin/")
    admin.click("text=Access attempts")
    row = admin.locator("#result_list tbody tr", has_text=agent.email)
    row.locator("input.action-select").check()
    admin.select_option("select[name=action]", "unlock")
    admin.click("button[name=index]")
    assert f"Unlocked {agent.email}" in admin.locator(".messagelist").inner_text()
    screenshot(admin, "admin-unlocked-login")
    # then the right password lets them in
    browser_login(page, agent.email)
    page.wait_for_url("**/lead-center/")


def test_the_admin_login_page_shows_the_lockout(page, company_admin, screenshot):
    for _ in range(5):
        page.goto("/admin/login/")
        page.fill("#id_username", company_admin.email)
        page.fill("#id_password", "wrong")
        page.click("input[type=submit]")
    assert LOCKED in page.locator(".errornote").inner_text()
    screenshot(page, "admin-login-locked-out")
