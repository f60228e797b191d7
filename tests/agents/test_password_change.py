"""Every logged-in person changes their own password at /password/ (the admin's page is for
staff only), linked from the top bar."""

import pytest
from django.core.cache import cache

from agents.forms import LimitedPasswordChangeForm
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


@pytest.fixture
def forget_wrong_passwords(agent, supervisor):
    """No wrong passwords counted before or after (the cache outlives a test, and ids come
    back in the next one)."""
    keys = [key for user in (agent, supervisor) for key in LimitedPasswordChangeForm(user)._keys()]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def _change(client, old):
    return client.post(
        "/password/", {"old_password": old, "new_password1": NEW, "new_password2": NEW}
    )


def test_wrong_current_passwords_are_limited_per_person(
    login, agent, supervisor, forget_wrong_passwords
):
    # given a session (stolen, say) guessing the current password five times
    client = login(agent)
    for i in range(5):
        wrong = _change(client, f"guess-{i}")
        assert "Your old password was entered incorrectly" in wrong.content.decode()
    # when it tries again, even with the right one
    response = _change(client, PASSWORD)
    # then it is refused by the field, saying for how long, and the password is unchanged
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"] == [
        "Too many wrong passwords; try again in 15 minutes."
    ]
    assert Agent.objects.get(pk=agent.pk).check_password(PASSWORD)
    # while someone else changes theirs as usual
    assert _change(login(supervisor), PASSWORD).status_code == 302


def test_the_limit_ends_with_its_window(login, agent, forget_wrong_passwords):
    client = login(agent)
    for i in range(5):
        _change(client, f"guess-{i}")
    # when the window's 15 minutes have passed (the count's keys expire with it)
    cache.delete_many(LimitedPasswordChangeForm(agent)._keys())
    # then the right password works again, and a success forgets the count
    assert _change(client, PASSWORD).status_code == 302
    assert cache.get(LimitedPasswordChangeForm(agent)._keys()[0]) is None
