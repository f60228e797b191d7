"""One address trying many emails (password spraying) is locked out for every email once it
passes LOGIN_ADDRESS_FAILURE_LIMIT, although no single email reached LOGIN_FAILURE_LIMIT."""

import pytest
from axes.models import AccessAttempt
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
    assert "try again in 15 minutes; only the operator of this site can unlock your address" in text
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


def test_refusals_during_an_address_lockout_are_not_counted_against_the_email(
    client, company_admin
):
    # given an address locked by a spray of eight emails
    for i in range(8):
        _try(client, f"person{i}@acme.test", "Spring2024!")
    # when the admin tries five times with the right password from that address
    for _ in range(5):
        assert _try(Client(), company_admin.email, PASSWORD).status_code == 429
    # then none of those refusals is a failure for the admin's email
    assert not AccessAttempt.objects.filter(username=company_admin.email).exists()
    # and once the spray's rows are removed (the address unlocked), the admin logs in
    AccessAttempt.objects.filter(ip_address=SPRAYER).delete()
    assert _try(Client(), company_admin.email, PASSWORD).status_code == 302


def test_the_address_message_says_who_can_unlock_it(client):
    for i in range(8):
        response = _try(client, f"person{i}@acme.test", "guess")
    text = response.content.decode()
    assert "only the operator of this site can unlock your address sooner" in text
    assert "your company admin cannot" in text


def test_ipv6_addresses_of_one_64_network_count_together(client, agent):
    # given wrong passwords from eight addresses of one IPv6 /64 (one device rotating them)
    for i in range(8):
        _try(Client(), f"person{i}@acme.test", "guess", address=f"2001:db8:1:2::{i + 1:x}")
    # then the /64 is locked: a right password from a ninth address of it is refused
    response = _try(Client(), agent.email, PASSWORD, address="2001:db8:1:2:ffff::9")
    assert response.status_code == 429
    assert BY_ADDRESS in response.content.decode()
    # while a neighbouring /64 logs in
    assert _try(Client(), agent.email, PASSWORD, address="2001:db8:1:3::1").status_code == 302
