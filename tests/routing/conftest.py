import pytest

from tests.factories import AgentFactory, online


@pytest.fixture
def people(company):
    """Three agents of the company, online."""
    team = [AgentFactory(companies=[company]) for _ in range(3)]
    online(*team)
    return team


@pytest.fixture(autouse=True)
def _no_wrong_tokens_counted():
    """Each test starts with no wrong webhook tokens counted for the test client's address
    (the count lives in the cache, which outlives a test, and a run on Redis)."""
    from routing.webhook import token_failures_clear

    token_failures_clear("127.0.0.1")
