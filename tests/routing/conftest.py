import pytest

from tests.factories import AgentFactory, online


@pytest.fixture
def people(company):
    """Three agents of the company, online."""
    team = [AgentFactory(companies=[company]) for _ in range(3)]
    online(*team)
    return team
