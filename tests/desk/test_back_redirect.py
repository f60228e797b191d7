"""The Lead Center's forms send the person back (desk.lead_center._back): only to a path of
this site, else to the page the form came from, else to the Lead Center; never a 500 for a
``next`` that is no address, never to another site."""

import pytest

from agents.models import Agent, Presence

pytestmark = pytest.mark.django_db
BAD_NEXT = [
    "0",
    "x",
    "25:99",
    "contacts:lead_center",
    "//evil.example",
    "//evil.example/lead-center/",
    "/\\evil.example",
    "https://evil.example",
    "https://evil.example/lead-center/",
    "javascript:alert(1)",
    "",
]


@pytest.mark.parametrize("next_", BAD_NEXT)
def test_a_next_that_is_no_local_path_goes_to_the_lead_center(login, agent, next_):
    # when the presence form posts a next that is not a path of this site
    response = login(agent).post("/lead-center/presence/", {"presence": "away", "next": next_})
    # then the presence is set and the person lands on the Lead Center
    assert response.status_code == 302
    assert response["Location"] == "/lead-center/"
    assert Agent.objects.get(pk=agent.pk).presence == Presence.AWAY


@pytest.mark.parametrize("next_", ["0", "25:99", "//evil.example"])
def test_a_bad_next_goes_back_to_the_page_the_form_came_from(login, agent, next_):
    # when the form came from the campaigns page
    response = login(agent).post(
        "/lead-center/presence/",
        {"presence": "away", "next": next_},
        headers={"Referer": "http://testserver/campaigns/?page=2"},
    )
    # then that is where the person goes back to
    assert response.status_code == 302
    assert response["Location"] == "/campaigns/?page=2"


@pytest.mark.parametrize(
    "referer", ["https://evil.example/lead-center/", "//evil.example/", "0", "javascript:x"]
)
def test_a_referer_of_another_site_is_not_followed(login, agent, referer):
    response = login(agent).post(
        "/lead-center/presence/", {"presence": "away", "next": "0"}, headers={"Referer": referer}
    )
    assert response.status_code == 302
    assert response["Location"] == "/lead-center/"


def test_a_local_path_in_next_is_followed(login, agent):
    response = login(agent).post(
        "/lead-center/presence/",
        {"presence": "available", "next": "/lead-center/?tab=offers"},
        headers={"Referer": "http://testserver/campaigns/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/lead-center/?tab=offers"
