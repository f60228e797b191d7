"""Every function and class of the access policies, services, selectors and forms below is
used by the project itself (tests alone don't count): dead code is removed, not kept."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = [
    "agents/permissions.py",
    "agents/centers/permissions.py",
    "agents/centers/selectors.py",
    "agents/centers/services.py",
    "leads/permissions.py",
    "leads/forms.py",
    "leads/services.py",
    "routing/permissions.py",
]
# Used by tests only, kept on purpose (say why).
KEPT = {
    # The license write with its refusal of the discontinued license; the user admin's
    # license inline still saves its own form (desk/ moves it; it should call this).
    ("agents/centers/services.py", "agent_set_license"),
}
SKIP_DIRS = {".venv", "tests", "migrations", "bench", ".git", "node_modules"}


def _project_text() -> str:
    return "\n".join(
        path.read_text()
        for path in ROOT.rglob("*")
        if path.suffix in (".py", ".html", ".txt")
        and not SKIP_DIRS.intersection(path.relative_to(ROOT).parts)
    )


@pytest.fixture(scope="module")
def project_text() -> str:
    return _project_text()


@pytest.mark.parametrize("module", MODULES)
def test_every_top_level_function_and_class_is_used_by_the_project(module, project_text):
    # given the module's top-level functions and classes
    tree = ast.parse((ROOT / module).read_text())
    names = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    # when each is looked for in the project's code and templates
    unused = [
        name
        for name in names
        if (module, name) not in KEPT
        and len(re.findall(rf"\b{re.escape(name)}\b", project_text)) < 2  # its def alone
    ]
    # then none is defined only to be tested
    assert unused == []
