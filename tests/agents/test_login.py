import pytest
from django.urls import reverse

from tests.factories import PASSWORD

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
