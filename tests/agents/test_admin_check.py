"""One "is an admin" check (``agents.access.is_company_admin``), not one written out per
page: the admin, the centers, the leads and routing management all ask it."""

import re
from pathlib import Path

import pytest

from agents.access import is_company_admin
from agents.models import AccessLevel
from tests.factories import AgentFactory

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", "tests", "migrations", "bench", "demo", ".git", "node_modules"}
WRITTEN_OUT = re.compile(r"access_level\s*[!=]=\s*\(?\s*AccessLevel\.ADMIN\b")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("level", "superuser", "expected"),
    [
        (AccessLevel.ADMIN, False, True),
        (AccessLevel.SUPERVISOR, True, True),
        (AccessLevel.SUPERVISOR, False, False),
        (AccessLevel.AGENT, False, False),
        (AccessLevel.LEADS_AGENT, False, False),
    ],
)
def test_admins_and_superusers_are_company_admins_and_use_the_django_admin(
    level, superuser, expected
):
    # given someone of this access level
    person = AgentFactory(access_level=level, is_superuser=superuser)
    # then the check answers, and the Django admin follows it
    assert is_company_admin(person) is expected
    assert person.is_staff is expected


def test_no_module_writes_the_admin_check_out_again():
    # given the project's modules (tests, migrations, demo data and benchmarks aside)
    sources = [
        path
        for path in ROOT.rglob("*.py")
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts)
    ]
    # when the check is looked for written out
    found = {
        str(path.relative_to(ROOT)) for path in sources if WRITTEN_OUT.search(path.read_text())
    }
    # then only the function itself has it
    assert found == {"agents/access.py"}
