"""Every logged-in person changes their own password at /password/ (the admin's page is for
staff only), linked from the top bar."""

import pytest

from agents.models import Agent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
NEW = "violet-otter-harbour-91"
PEOPLE = ["agent", "leads_agent", "supervisor", "company_admin"]


@pytest.mark.parametrize("person", PEOPLE)
def test_each_access_level_changes_their_own_password(client, request, person):
    # given someone logged in (non-staff included)
    user = request.getfixturevalue(person)
    client.force_login(user)
    # when they open the page from the top bar's link and change their password
    page = client.get("/lead-center/" if person == "agent" else "/password/")
    assert 'href="/password/"' in page.content.decode()
    response = client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
        follow=True,
    )
    # then the new one is set, they stay logged in, and the page they land on says so
    assert response.status_code == 200
    assert "Your password was changed." in response.content.decode()
    assert Agent.objects.get(pk=user.pk).check_password(NEW)
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_wrong_current_password_is_refused_by_its_field(login, agent):
    client = login(agent)
    response = client.post(
        "/password/", {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    assert "Your old password was entered incorrectly" in response.content.decode()
    assert Agent.objects.get(pk=agent.pk).check_password(PASSWORD)


def test_a_weak_or_mismatched_new_password_is_refused(login, agent):
    client = login(agent)
    weak = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": "1234", "new_password2": "1234"}
    )
    mismatched = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW + "x"}
    )
    assert weak.status_code == 200 and weak.context["form"].errors["new_password2"]
    assert mismatched.status_code == 200
    assert "The two password fields didn’t match." in mismatched.content.decode()
    assert Agent.objects.get(pk=agent.pk).check_password(PASSWORD)


def test_the_page_asks_to_log_in_first(client):
    response = client.get("/password/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/password/")
