"""The demo company's API key, with every scope, printed by ``seed_demo`` and ``make run``.

Only a key's hash is stored, so the raw demo key is kept in ``var/demo-api-key`` (readable
by its owner only; ``var/`` is never committed): random on each installation (never a string
that works everywhere), the same on every later run while it works. Deriving it from
``SECRET_KEY`` was the other way, but ``make run`` runs on the built-in development key,
which is public: the derived key would have been the same on every demo installation.
"""

import os
from pathlib import Path

from django.conf import settings

from agents.models import Agent, Company
from api.keys import api_key_create
from api.models import ApiKey, Scope

DEMO_KEY_NAME = "Demo key (make run)"


def demo_key_file() -> Path:
    # DEMO_API_KEY_FILE (bin/run-demo reads the same variable): tests keep theirs elsewhere.
    return Path(os.environ.get("DEMO_API_KEY_FILE") or Path(settings.VAR_DIR) / "demo-api-key")


def _kept_raw() -> str | None:
    try:
        raw = demo_key_file().read_text().strip()
    except OSError:
        return None
    # Only what ApiKey.generate makes: a file edited by hand is replaced, not trusted.
    return raw if raw.startswith("sbk_") and 20 <= len(raw) <= 100 and raw.isascii() else None


def _keep(raw: str) -> None:
    path = demo_key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(raw + "\n")


def seed_demo_api_key(company: Company, created_by: Agent | None) -> tuple[str, bool]:
    """The raw demo key of ``company`` and whether it was made now. A kept key that still
    works is kept; one revoked or expired (or of another company) is replaced by a new one;
    a kept key unknown to this database (a new database) is registered again."""
    raw = _kept_raw()
    if raw is not None:
        key = ApiKey.objects.filter(key_hash=ApiKey.hash(raw)).first()
        if key is not None and key.company_id == company.pk and key.is_usable():
            return raw, False
        if key is not None:
            raw = None  # revoked, expired or another company's: never brought back
    key, raw = api_key_create(
        company=company,
        name=DEMO_KEY_NAME,
        scopes=list(Scope.values),
        created_by=created_by,
        raw=raw,
    )
    _keep(raw)
    return raw, True
