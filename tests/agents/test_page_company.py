"""A live page's fragment fetch names the company its page shows; once the session works in
another (switched to in another tab) it is answered 409 with a sentence, never with the other
company's items."""

import pytest

from agents.middleware import PAGE_COMPANY_HEADER
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db

HEADER = "HTTP_" + PAGE_COMPANY_HEADER.upper().replace("-", "_")


@pytest.fixture
def andy(company, other_company):
    return online(AgentFactory(companies=[company, other_company], full_name="Andy Agent"))


def test_a_fragment_for_the_page_of_another_company_is_refused_with_a_sentence(
    login, company, other_company, andy
):
    client = login(andy)
    client.post("/company/", {"company": other_company.pk, "next": "/lead-center/"})
    response = client.get("/lead-center/live/", **{HEADER: str(company.pk)})
    assert response.status_code == 409
    assert response.content.decode() == (
        "You switched to Globex in another tab: reload this page to work there."
    )


def test_a_fragment_for_the_sessions_company_or_naming_none_is_served(
    login, company, other_company, andy
):
    client = login(andy)
    client.post("/company/", {"company": other_company.pk, "next": "/lead-center/"})
    assert client.get("/lead-center/live/", **{HEADER: str(other_company.pk)}).status_code == 200
    assert client.get("/lead-center/live/").status_code == 200


def test_the_page_says_which_company_it_shows(login, company, andy):
    body = login(andy).get("/lead-center/").content.decode()
    assert f'data-company="{company.pk}"' in body
