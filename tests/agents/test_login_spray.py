"""One address trying many emails (password spraying) is locked out for every email once it
passes LOGIN_ADDRESS_FAILURE_LIMIT, although no single email reached LOGIN_FAILURE_LIMIT."""

import pytest
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
SPRAYER, ELSEWHERE = "203.0.113.66", "198.51.100.20"
BY_ADDRESS = "Too many failed logins from your address, with several emails"
BY_EMAIL = "Too many failed attempts to log in with this email from your address"


def _try(client, email, password, address=SPRAYER, page="/login/"):
    return client.post(page, {"username": email, "password": password}, REMOTE_ADDR=address)


@pytest.fixture(autouse=True)
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8


@pytest.mark.parametrize("page", ["/login/", "/admin/login/"])
def test_one_address_spraying_many_emails_is_locked_out(client, company_admin, page):
    # given an address trying one password on seven different emails (one try each)
    for i in range(7):
        response = _try(client, f"person{i}@acme.test", "Spring2024!", page=page)
        assert response.status_code == 200
        assert BY_ADDRESS not in response.content.decode()
    # when it fails the eighth time
    response = _try(client, "person7@acme.test", "Spring2024!", page=page)
    # then the address is locked out, with a message that says so and for how long
    assert response.status_code == 429
    text = response.content.decode()
    assert BY_ADDRESS in text
    assert "try again in 15 minutes or ask an admin to unlock your address" in text
    # and even a real person with the right password is refused from that address
    refused = _try(Client(), company_admin.email, PASSWORD, page=page)
    assert refused.status_code == 429
    assert BY_ADDRESS in refused.content.decode()
    # while from another address they log in
    elsewhere = _try(Client(), company_admin.email, PASSWORD, address=ELSEWHERE, page=page)
    assert elsewhere.status_code == 302


def test_a_success_from_the_address_does_not_wipe_its_count(client, agent):
    # given seven failures on other emails from one address
    for i in range(7):
        _try(client, f"person{i}@acme.test", "guess")
    # when the sprayer logs in to an account of its own (axes resets the failures on success)
    assert _try(Client(), agent.email, PASSWORD).status_code == 302
    # then the next failure still locks the address
    response = _try(Client(), "person9@acme.test", "guess")
    assert response.status_code == 429
    assert BY_ADDRESS in response.content.decode()


def test_one_email_still_locks_out_first_with_its_own_message(client, agent, supervisor):
    # given five wrong passwords for one email (below the address's limit)
    for _ in range(5):
        response = _try(client, agent.email, "guess")
    # then that email is locked from the address, saying so, and others still log in
    assert response.status_code == 429
    assert BY_EMAIL in response.content.decode()
    assert _try(Client(), supervisor.email, PASSWORD).status_code == 302
