"""Outbound webhooks in the admin: a company's admins register endpoints (the secret shown
once, Rotate secret), read their deliveries and resend them; nobody else sees them."""

import re
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils.timezone import localtime
from standardwebhooks import Webhook

from events.delivery import sweep
from events.emit import event_emit
from events.models import Delivery, Endpoint, EventType
from events.services import endpoint_create
from tests.events.conftest import no_wait

pytestmark = pytest.mark.django_db

ADD = "/admin/events/endpoint/add/"
ENDPOINTS = "/admin/events/endpoint/"
DELIVERIES = "/admin/events/delivery/"


def _secret_on(page: str) -> str | None:
    found = re.search(r'id="endpoint-secret"[^>]*>([^<]+)<', page)
    return found.group(1) if found else None


def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(
    login, company, company_admin, receiver
):
    # given the company's admin and a receiver
    client = login(company_admin)
    got = receiver()

    # when they save an endpoint hearing ownership changes and lead assignments
    response = client.post(
        ADD,
        {
            "url": got.url,
            "description": "CRM",
            "event_types": ["lead.assigned", "contact.owner_changed"],
            "enabled": "on",
        },
        follow=True,
    )

    # then the next page shows the secret, which signs what the endpoint gets
    page = response.content.decode()
    secret = _secret_on(page)
    endpoint = Endpoint.objects.get()
    assert secret == endpoint.secret and secret.startswith("whsec_")
    assert "shown only this once" in page
    assert "no-store" in response["Cache-Control"]
    assert endpoint.company == company and endpoint.description == "CRM"
    assert endpoint.event_types == ["contact.owner_changed", "lead.assigned"]
    company.refresh_from_db()
    assert company.outbound_event_types == ["contact.owner_changed", "lead.assigned"]
    # and it is never shown again, on that page or the endpoint's
    again = client.get(f"{ENDPOINTS}{endpoint.pk}/secret/").content.decode()
    assert _secret_on(again) is None and "cannot be shown again" in again
    assert secret not in client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()


def test_a_private_url_is_refused_by_the_form_next_to_the_field(
    login, company, company_admin, settings
):
    # given loopback not allowed (as in production)
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    client = login(company_admin)

    # when the admin saves an endpoint on the machine itself
    response = client.post(
        ADD, {"url": "http://127.0.0.1:8000/x", "event_types": ["contact.created"]}
    )

    # then the form says why, by the URL, and nothing was saved
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["url"] == [
        "Webhooks are not sent to 127.0.0.1: it is a loopback address (this machine)."
    ]
    assert not Endpoint.objects.exists()


def test_an_endpoint_needs_an_event_type(login, company_admin, receiver):
    response = login(company_admin).post(ADD, {"url": receiver().url, "event_types": []})
    assert response.context["adminform"].form.errors["event_types"] == ["This field is required."]
    assert not Endpoint.objects.exists()


def test_rotating_the_secret_shows_the_new_one_which_signs_from_then_on(
    login, company, company_admin, listening_endpoint
):
    # given an endpoint and its admin
    endpoint, got = listening_endpoint()
    client = login(company_admin)
    old = endpoint.secret

    # when they rotate its secret
    confirm = client.get(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/").content.decode()
    page = client.post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/").content.decode()

    # then the page shows the new secret once, and the next delivery is signed with it
    assert "For 24 hours the current one goes on signing too" in confirm
    assert "each request also carries a second signature" in page
    new = _secret_on(page)
    assert new and new != old
    got.secret = new
    with transaction.atomic():
        event_emit(company=company, type=EventType.CONTACT_CREATED, data={}, contact_id=1)
    sweep()
    (request,) = got.accepted
    Webhook(new).verify(
        __import__("json").dumps(request.body, separators=(",", ":")), request.headers
    )


def test_the_endpoint_page_lists_its_deliveries_and_resend_sends_one_again(
    login, company, company_admin, listening_endpoint, settings, django_capture_on_commit_callbacks
):
    # given a delivery given up after its receiver failed
    no_wait(settings)
    endpoint, got = listening_endpoint(answer=lambda n, h, b: ((500 if n == 0 else 200), {}))
    with transaction.atomic():
        event_emit(company=company, type=EventType.CONTACT_CREATED, data={}, contact_id=1)
    sweep()
    Delivery.objects.update(status=Delivery.Status.FAILED)
    delivery = Delivery.objects.get()
    client = login(company_admin)

    # when the admin reads the endpoint, then resends the delivery from the list
    page = client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()
    listed = client.get(DELIVERIES, {"status": "failed"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            DELIVERIES,
            {"action": "resend", "_selected_action": [delivery.pk]},
            follow=True,
        )

    # then the endpoint page showed it with its status, attempts and last answer
    assert delivery.msg_id in page and "Failed (given up)" in page and "HTTP 500" in page
    assert delivery.msg_id in listed
    # with the type of its events, and times that say their zone (the company's)
    assert delivery.event_type == "contact.created"
    assert "contact.created" in page and "contact.created" in listed
    zone = localtime(delivery.last_attempt_at, ZoneInfo(company.time_zone)).strftime("%Z")
    assert f"{zone}</td>" in listed
    # and the resend delivered it, with the same webhook-id
    assert "Queued 1 delivery to be sent again." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED
    assert [r.headers["webhook-id"] for r in got.received] == [delivery.msg_id] * 2


def test_the_deliveries_list_filters_by_status(login, company, company_admin, receiver):
    # given a delivered and a failed delivery
    endpoint, _ = endpoint_create(
        company=company, url=receiver().url, event_types=[EventType.CONTACT_CREATED]
    )
    done = Delivery.objects.create(
        endpoint=endpoint, msg_id="msg_done", status=Delivery.Status.DELIVERED
    )
    failed = Delivery.objects.create(
        endpoint=endpoint, msg_id="msg_failed", status=Delivery.Status.FAILED
    )

    # when the admin filters by failed
    page = login(company_admin).get(DELIVERIES, {"status": "failed"}).content.decode()

    # then only the failed one is listed
    assert failed.msg_id in page and done.msg_id not in page


def test_only_a_companys_admins_see_its_endpoints(
    login, company, other_company, company_admin, other_admin, supervisor, receiver
):
    # given an endpoint of each company
    mine, _ = endpoint_create(
        company=company, url=receiver().url, event_types=[EventType.CONTACT_CREATED]
    )
    theirs, _ = endpoint_create(
        company=other_company, url=receiver().url, event_types=[EventType.CONTACT_CREATED]
    )
    Delivery.objects.create(endpoint=theirs, msg_id="msg_theirs")

    # when each person opens the pages
    admin = login(company_admin)
    listed = admin.get(ENDPOINTS).content.decode()
    deliveries = admin.get(DELIVERIES).content.decode()
    other_page = admin.get(f"{ENDPOINTS}{theirs.pk}/change/")
    other_secret = admin.get(f"{ENDPOINTS}{theirs.pk}/rotate-secret/")

    # then the admin sees only their company's; a supervisor nothing at all
    assert mine.url in listed and f"{theirs.pk}/change/" not in listed
    assert "msg_theirs" not in deliveries
    assert other_page.status_code == 302  # "doesn't exist", back to the list
    assert other_secret.status_code == 403
    sup = login(supervisor)
    for url in (ENDPOINTS, DELIVERIES, f"{ENDPOINTS}{mine.pk}/rotate-secret/"):
        assert sup.get(url)["Location"].startswith("/admin/login/")  # not staff
    Endpoint.objects.get(pk=theirs.pk)  # untouched
    assert other_admin  # the other company's admin exists but is not logged in


def test_disabling_an_endpoint_from_the_list_stops_its_events(
    login, company, company_admin, receiver
):
    # given two endpoints hearing different types
    a, _ = endpoint_create(
        company=company, url=receiver().url, event_types=[EventType.CONTACT_CREATED]
    )
    endpoint_create(company=company, url=receiver().url, event_types=[EventType.LEAD_ASSIGNED])

    # when the admin disables the first
    login(company_admin).post(ENDPOINTS, {"action": "disable_selected", "_selected_action": [a.pk]})

    # then the company no longer writes its type
    a.refresh_from_db()
    company.refresh_from_db()
    assert not a.enabled and a.disabled_reason == "Disabled by an admin."
    assert company.outbound_event_types == ["lead.assigned"]


def test_the_admin_asks_nothing_of_a_visitor_not_logged_in(rf):
    # the admin's login page asks every app whether the visitor may see it (anonymous too)
    from django.contrib import admin
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/admin/login/")
    request.user = AnonymousUser()
    for model in (Endpoint, Delivery):
        model_admin = admin.site._registry[model]
        assert model_admin.has_module_permission(request) is False
        assert model_admin.has_view_permission(request) is False


def _session_values(client) -> str:
    """Everything the client's session holds, as text."""
    from django.contrib.sessions.models import Session

    return " ".join(str(s.get_decoded()) for s in Session.objects.all()) + str(
        dict(client.session.items())
    )


def test_the_new_secret_is_in_the_saves_own_answer_and_never_in_the_session(
    login, company, company_admin, receiver
):
    # given the company's admin
    client = login(company_admin)

    # when they save a new endpoint (no redirect followed)
    response = client.post(
        ADD, {"url": receiver().url, "event_types": ["contact.created"], "enabled": "on"}
    )

    # then that answer itself shows the secret, kept by no cache
    endpoint = Endpoint.objects.get()
    assert response.status_code == 200
    assert _secret_on(response.content.decode()) == endpoint.secret
    assert "no-store" in response["Cache-Control"]
    # and the session never held it
    assert endpoint.secret not in _session_values(client)


def test_a_rotated_secret_is_in_the_answer_to_the_rotation_and_never_in_the_session(
    login, company, company_admin, receiver
):
    # given an endpoint and its admin
    endpoint, _ = endpoint_create(
        company=company, url=receiver().url, event_types=[EventType.CONTACT_CREATED]
    )
    client = login(company_admin)

    # when they rotate its secret
    response = client.post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/")

    # then the answer shows the new one, kept by no cache and not in the session
    endpoint.refresh_from_db()
    assert _secret_on(response.content.decode()) == endpoint.secret
    assert "no-store" in response["Cache-Control"]
    assert endpoint.secret not in _session_values(client)


def test_an_http_url_is_refused_by_the_form_when_https_is_required(
    login, company, company_admin, settings
):
    # given HTTPS required (production behind TLS)
    settings.WEBHOOK_REQUIRE_HTTPS = True
    client = login(company_admin)

    # when the admin saves a plain http:// endpoint
    form_page = client.get(ADD).content.decode()
    response = client.post(
        ADD, {"url": "http://127.0.0.1:8000/x", "event_types": ["contact.created"]}
    )

    # then the form says so by the URL, and nothing was saved
    assert "(https only; port 80, 443, 8080 or 8443;" in form_page
    errors = response.context["adminform"].form.errors
    assert errors["url"] == ["Use an https:// URL: webhooks are sent only over HTTPS."]
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("value", ["²", "x", "99999999999999999999"])
def test_an_endpoint_filter_that_names_no_id_lists_every_delivery(login, company_admin, value):
    # ("²" is a digit to str.isdigit, not to int: it was a 500)
    assert login(company_admin).get(DELIVERIES, {"endpoint__id__exact": value}).status_code == 200
