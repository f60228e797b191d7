"""Admin action pages: Cancel is a button like the main one."""

import pytest

from contacts.services import contact_create
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cancel_has_the_main_buttons_height_and_line(page, company, company_admin, screenshot):
    contact_create(company=company, actor=None, name="Olivia Nguyen", phone="+12025550142")
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    page.goto("/admin/contacts/contact/")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "assign_primary_agent")
    page.click("button[name=index]")
    main = page.locator(".submit-row input[type=submit]").bounding_box()
    cancel = page.locator(".submit-row a.cancel-link").bounding_box()
    screenshot(page, "admin-action-assign-cancel")
    assert abs(main["height"] - cancel["height"]) <= 1
    assert abs((main["y"] + main["height"] / 2) - (cancel["y"] + cancel["height"] / 2)) <= 1
    page.click("a.cancel-link")
    page.wait_for_url("**/admin/contacts/contact/")
