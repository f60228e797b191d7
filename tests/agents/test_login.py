from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from agents.models import AccessLevel
from tests.factories import PASSWORD, AgentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("person", "start_page"),
    [
        ("company_admin", "/admin/"),
        ("supervisor", "/workload/"),
        ("agent", "/lead-center/"),
        ("leads_agent", "/leads/report/"),
    ],
)
def test_each_access_level_lands_on_its_own_start_page(client, request, person, start_page):
    # given a person of that access level
    user = request.getfixturevalue(person)
    # when they log in
    response = client.post("/login/", {"username": user.email, "password": PASSWORD}, follow=True)
    # then they end on their start page, which opens
    assert response.redirect_chain[-1][0] == start_page
    assert response.status_code == 200


def test_wrong_password_says_so_on_the_login_page(client, agent):
    response = client.post("/login/", {"username": agent.email, "password": "nope"})
    assert response.status_code == 200
    assert "That email and password don’t match an account" in response.content.decode()


def test_pages_need_a_login(client):
    response = client.get("/lead-center/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/lead-center/")


def test_an_agent_cannot_open_the_workload_page(login, agent):
    response = login(agent).get("/workload/")
    assert response.status_code == 403
    assert "access level" in response.content.decode()


def test_a_leads_agent_cannot_open_the_admin(login, leads_agent):
    response = login(leads_agent).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_logout_is_a_post_and_ends_the_session(login, agent):
    client = login(agent)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/lead-center/").status_code == 302


def test_last_seen_is_recorded_on_requests(login, agent):
    # given an agent never seen
    assert agent.last_seen_at is None
    # when they open a page
    login(agent).get("/lead-center/")
    # then presence knows they are around
    agent.refresh_from_db()
    assert agent.last_seen_at is not None
    assert agent.effective_presence == "available"


# --- Password guessing --------------------------------------------------------------------
LOCKED = "Too many failed attempts to log in with this email from your address"
LOGIN_PAGES = ["/login/", "/admin/login/"]


def _try(client, page, email, password, address="203.0.113.7"):
    return client.post(page, {"username": email, "password": password}, REMOTE_ADDR=address)


def _unlock(admin_client, email):
    attempts = AccessAttempt.objects.filter(username=email)
    return admin_client.post(
        "/admin/axes/accessattempt/",
        {"action": "unlock", ACTION_CHECKBOX_NAME: [str(a.pk) for a in attempts]},
        follow=True,
    )


@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_five_wrong_passwords_lock_the_login_until_an_admin_unlocks_it(
    client, company_admin, other_company_admin, page
):
    # given someone guessing an admin's password from one address
    for _ in range(4):
        response = _try(client, page, company_admin.email, "guess")
        assert response.status_code == 200
        assert LOCKED not in response.content.decode()
    # when the fifth guess fails
    response = _try(client, page, company_admin.email, "guess")
    # then the login page says the login is locked, for how long, and who can unlock it
    assert response.status_code == 429
    page_text = response.content.decode()
    assert LOCKED in page_text
    assert "try again in 15 minutes or ask an admin to unlock your login" in page_text
    assert 'name="password"' in page_text  # still the login page, not a bare error
    # and even the right password is refused while locked
    response = _try(client, page, company_admin.email, PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    # when another admin of the company unlocks it in the admin
    admin_client = Client()
    admin_client.force_login(other_company_admin)
    unlocked = _unlock(admin_client, company_admin.email)
    assert f"Unlocked {company_admin.email}" in unlocked.content.decode()
    # then the right password works again
    response = _try(client, page, company_admin.email, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(company_admin.pk)


def test_lockout_is_per_email_and_address(client, agent, supervisor):
    # given an agent's login locked from one address, typed in any case
    for email in [
        agent.email,
        agent.email.upper(),
        f" {agent.email} ",
        agent.email,
        "AGENT@acme.test",
    ]:
        _try(client, "/login/", email, "guess")
    assert LOCKED in _try(client, "/login/", agent.email, PASSWORD).content.decode()
    # then the same person from another address still logs in
    elsewhere = Client()
    assert (
        _try(elsewhere, "/login/", agent.email, PASSWORD, address="198.51.100.9").status_code == 302
    )
    # and someone else from the same address too
    assert _try(Client(), "/login/", supervisor.email, PASSWORD).status_code == 302


def test_lockout_time_comes_from_the_setting(client, agent, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    for _ in range(5):
        response = _try(client, "/login/", agent.email, "guess")
    assert "try again in 1 minute or ask an admin" in response.content.decode()


def test_a_success_before_the_limit_starts_the_count_again(client, agent):
    for _ in range(4):
        _try(client, "/login/", agent.email, "guess")
    assert _try(client, "/login/", agent.email, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        response = _try(client, "/login/", agent.email, "guess")
    assert LOCKED not in response.content.decode()


def test_company_admins_unlock_their_own_people_only(client, agent, other_admin):
    # given a locked agent of Acme
    for _ in range(5):
        _try(client, "/login/", agent.email, "guess")
    # then Globex's admin sees the lockout page but not Acme's agent, and can't unlock them
    globex = Client()
    globex.force_login(other_admin)
    assert "Access attempts" in globex.get("/admin/").content.decode()
    listing = globex.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert agent.email not in listing.content.decode()
    _unlock(globex, agent.email)
    assert AccessAttempt.objects.filter(username=agent.email).exists()
    assert LOCKED in _try(client, "/login/", agent.email, PASSWORD).content.decode()


@pytest.fixture
def other_company_admin(company):
    return AgentFactory(
        access_level=AccessLevel.ADMIN, companies=[company], email="admin2@acme.test"
    )


def test_behind_the_proxy_the_lockout_counts_the_address_the_proxy_saw(client, agent, settings):
    settings.BEHIND_PROXY = True
    # given guesses relayed by our proxy for one client (who also forged an earlier entry)
    for forged in ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"]:
        client.post(
            "/login/",
            {"username": agent.email, "password": "guess"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.7",
        )
    # then that client is locked out, whatever it forged
    relayed = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    response = Client().post("/login/", {"username": agent.email, "password": PASSWORD}, **relayed)
    assert LOCKED in response.content.decode()
    # while the same person elsewhere, behind the same proxy, still logs in
    other = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.9"}
    response = Client().post("/login/", {"username": agent.email, "password": PASSWORD}, **other)
    assert response.status_code == 302


@pytest.mark.parametrize("forwarded", ["not-an-ip", "1.2.3.4\x00", ""])
def test_a_forwarded_address_that_is_not_one_falls_back_to_the_connection(
    client, agent, settings, forwarded
):
    settings.BEHIND_PROXY = True
    response = client.post(
        "/login/",
        {"username": agent.email, "password": "guess"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    assert response.status_code == 200
    assert AccessAttempt.objects.get(username=agent.email).ip_address == "10.0.0.2"
