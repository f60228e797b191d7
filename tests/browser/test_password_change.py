"""A non-staff agent changes their own password from the top bar, then logs in with it."""

import pytest

from tests.browser.csp import watch_csp
from tests.conftest import browser_login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW = "violet-otter-harbour-91"


def test_an_agent_changes_their_password_from_the_top_bar(new_page, agent, screenshot):
    # given an agent on the Lead Center
    page = new_page()
    violations = watch_csp(page)
    browser_login(page, agent.email)
    page.wait_for_url("**/lead-center/")
    # when they follow the top bar's link and mistype the confirmation
    page.click("#password-link")
    page.wait_for_url("**/password/")
    assert page.locator("h1").inner_text() == "Change your password"
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", NEW)
    page.fill("#id_new_password2", NEW + "x")
    page.click("#password-change button[type=submit]")
    # then the page says so by the field
    assert "didn’t match" in page.locator(".field-error").inner_text()
    screenshot(page, "password-change-mismatch")
    # when they type it right
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", NEW)
    page.fill("#id_new_password2", NEW)
    page.click("#password-change button[type=submit]")
    # then they are back on their start page, told it worked
    page.wait_for_url("**/lead-center/")
    assert "Your password was changed." in page.locator(".messages").inner_text()
    screenshot(page, "password-changed")
    # and the new password is the one that logs in
    other = new_page()
    browser_login(other, agent.email, NEW)
    other.wait_for_url("**/lead-center/")
    assert violations == []
