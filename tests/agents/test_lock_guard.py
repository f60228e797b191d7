"""The guard of the one lock order (agents/lockorder.py): no row or table lock is taken outside
the lock modules, and every lock helper records its level (the order itself:
test_lock_order.py)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# Row and table locks in SQL text (case-insensitive), and the ORM's lock.
LOCK_SQL = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(?:KEY\s+)?SHARE\b|\bSKIP\s+LOCKED\b"
    r"|\bNOWAIT\b|\bLOCK\s+TABLE\b|pg_(?:try_)?advisory",
    re.IGNORECASE,
)
LOCK_MODULES = {
    "agents/locks.py",
    "contacts/locks.py",
    "routing/locks.py",
    "leads/locks.py",
    "campaigns/locks.py",
    "events/locks.py",
}


def _locks_in(node: ast.AST) -> list[str]:
    """The locks a piece of code takes: ``select_for_update`` and lock clauses in its strings
    (docstrings aside: they may name a lock they don't take)."""
    docstrings = {
        id(n.value)
        for n in ast.walk(node)
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
    }
    found = []
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and n.attr == "select_for_update":
            found.append(f"line {n.lineno}: select_for_update")
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings:
            found += [f"line {n.lineno}: {m.group(0)}" for m in LOCK_SQL.finditer(n.value)]
    return found


def _app_sources():
    # Every Django app of ours and the settings; tests and migrations aside. (bench/ measures
    # and is no app: its floor is a bare Django's raw FOR UPDATE on purpose.)
    packages = sorted({p.parent.name for p in ROOT.glob("*/apps.py")} | {"config"})
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative:
                yield relative, ast.parse(path.read_text(), relative)


def test_no_row_lock_is_taken_outside_the_lock_modules():
    # One lock order (agents/lockorder.py), recorded by the helpers of the locks modules; a
    # lock anywhere else would be taken in an order nobody checks.
    offenders = [
        f"{relative} {lock}"
        for relative, tree in _app_sources()
        if relative not in LOCK_MODULES
        for lock in _locks_in(tree)
    ]
    assert offenders == []


def test_the_guard_sees_every_kind_of_lock():
    sources = [
        "Contact.objects.select_for_update().get(pk=1)",
        'cursor.execute("SELECT id FROM t WHERE id = %s for update")',
        'cursor.execute("SELECT id FROM t FOR NO KEY UPDATE OF t")',
        'sql = f"SELECT id FROM {table} FOR SHARE"',
        'sql = "SELECT id FROM t LIMIT 1 FOR UPDATE SKIP LOCKED"',
        'cursor.execute("LOCK TABLE contacts_primaryload IN EXCLUSIVE MODE")',
        'cursor.execute("SELECT pg_advisory_xact_lock(%s)", [1])',
    ]
    for source in sources:
        assert _locks_in(ast.parse(source)), source
    assert _locks_in(ast.parse('"""Locks SELECT … FOR UPDATE (a docstring)."""')) == []


def test_every_lock_helper_records_its_level():
    # Each public function of a locks module calls lock_taken (agents/lockorder.py), or
    # another lock helper that does.
    missing = []
    for relative in sorted(LOCK_MODULES):
        tree = ast.parse((ROOT / relative).read_text())
        for function in tree.body:
            if not isinstance(function, ast.FunctionDef) or function.name.startswith("_"):
                continue
            called = {
                n.func.id
                for n in ast.walk(function)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            }
            if not any(name == "lock_taken" or name.startswith("lock_") for name in called):
                missing.append(f"{relative}:{function.name}")
    assert missing == []
