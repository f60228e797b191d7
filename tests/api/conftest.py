"""The API's fixtures: keys of every scope, for two companies."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.keys import api_key_create
from api.models import Scope
from tests.factories import AgentFactory, online

ALL_SCOPES = [Scope.READ, Scope.WRITE, Scope.ROUTING]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def client_for(company, scopes=ALL_SCOPES, name="test key") -> APIClient:
    """An API client sending a new key of ``company`` with ``scopes``."""
    _, raw = api_key_create(company=company, name=name, scopes=list(scopes), created_by=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.raw_key = raw
    return client


@pytest.fixture
def api(company):
    """A key of ``company`` with every scope."""
    return client_for(company)


@pytest.fixture
def other_api(other_company):
    """A key of ``other_company`` with every scope (for IDOR checks)."""
    return client_for(other_company)


@pytest.fixture
def make_api():
    return client_for


@pytest.fixture
def team(company):
    """Ava, Ben and Chloe of ``company``, available."""
    people = [
        AgentFactory(
            companies=[company], full_name=name, email=f"{name.split()[0].lower()}@acme.test"
        )
        for name in ("Ava Patel", "Ben Okafor", "Chloe Martin")
    ]
    online(*people)
    return people


@pytest.fixture
def boss(company):
    """A default assignee, available."""
    return online(AgentFactory(companies=[company], full_name="Dana Default"))
