# ruff: noqa: F811 - the tests take the imported ``receiver`` fixture
"""Outbound webhooks in a real browser: an admin registers an endpoint, copies its secret
(shown once), sees a delivery and resends it; the endpoint page at phone width."""

import pytest
from django.db import transaction

from events.emit import event_emit
from events.models import Delivery, Endpoint, EventType
from tests.conftest import browser_login
from tests.events.conftest import receiver  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_admin_registers_an_endpoint_sees_the_secret_once_and_resends_a_delivery(
    page,
    company,
    company_admin,
    receiver,
    screenshot,
):
    # given the company's admin and a receiver on 127.0.0.1
    got = receiver()
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")

    # when they register an endpoint hearing new contacts
    page.goto("/admin/events/endpoint/add/")
    page.fill("#id_url", got.url)
    page.fill("#id_description", "CRM sync")
    page.check("input[name=event_types][value='contact.created']")
    screenshot(page, "webhooks-endpoint-form")
    page.click("input[name=_save]")

    # then the next page shows the secret, once
    secret = page.inner_text("#endpoint-secret")
    assert secret.startswith("whsec_")
    screenshot(page, "webhooks-endpoint-secret")
    endpoint = Endpoint.objects.get()
    page.goto(f"/admin/events/endpoint/{endpoint.pk}/secret/")
    assert page.locator("#endpoint-secret").count() == 0
    assert "cannot be shown again" in page.inner_text("#secret-gone")

    # and an event the company commits is delivered, signed with that secret
    got.secret = secret
    company.refresh_from_db()
    with transaction.atomic():
        event_emit(
            company=company,
            type=EventType.CONTACT_CREATED,
            data={"contact": {"id": 1, "name": "Ava"}},
            contact_id=1,
        )
    assert len(got.accepted) == 1 and got.bad_signatures == 0
    delivery = Delivery.objects.get()

    # when the admin opens the endpoint and resends its delivery from the list
    page.goto(f"/admin/events/endpoint/{endpoint.pk}/change/")
    row = page.locator("#recent-deliveries tbody tr").first
    assert delivery.msg_id in row.inner_text() and "Delivered" in row.inner_text()
    screenshot(page, "webhooks-endpoint-deliveries")
    page.click("text=All deliveries of this endpoint")
    page.check(f"input[name=_selected_action][value='{delivery.pk}']")
    page.select_option("select[name=action]", "resend")
    page.click("button[name=index]")

    # then it was sent again with the same webhook-id, and the list says so
    assert "Queued 1 delivery to be sent again." in page.inner_text(".messagelist")
    assert [r.headers["webhook-id"] for r in got.accepted] == [delivery.msg_id] * 2
    screenshot(page, "webhooks-deliveries-resent")


def test_the_endpoint_page_fits_a_phone(page, company, company_admin, receiver, screenshot):
    # given an endpoint with a failed delivery
    from events.services import endpoint_create

    endpoint, _ = endpoint_create(
        company=company,
        url=receiver().url + "/a-rather-long-path/for-the-crm-integration?team=north-east",
        event_types=[t.value for t in EventType],
        description="CRM sync (north-east team)",
    )
    Delivery.objects.create(
        endpoint=endpoint,
        msg_id=Delivery.new_msg_id(),
        status=Delivery.Status.FAILED,
        attempts=31,
        last_status_code=500,
        last_error="HTTP 500",
    )
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")

    # when the admin opens it on a phone
    page.goto(f"/admin/events/endpoint/{endpoint.pk}/change/")
    page.wait_for_selector("#recent-deliveries")

    # then it shows the delivery and does not scroll sideways
    screenshot(page, "narrow-webhooks-endpoint")
    assert "Failed (given up)" in page.inner_text("#recent-deliveries")
    assert page.evaluate(OVERFLOW) <= 0, page.evaluate("document.documentElement.scrollWidth")
    # the deliveries' table scrolls sideways in its own box instead
    box = "t => getComputedStyle(t.parentElement).overflowX"
    assert page.eval_on_selector("#recent-deliveries", box) == "auto"
