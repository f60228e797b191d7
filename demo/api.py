"""The demo company's API key, with every scope, printed by ``seed_demo`` and ``make run``.

Only a key's hash is stored, so the raw demo key is kept in ``var/demo-api-key`` (readable
by its owner only; ``var/`` is never committed): random on each installation (never a string
that works everywhere), the same on every later run while it works. Deriving it from
``SECRET_KEY`` was the other way, but ``make run`` runs on the built-in development key,
which is public: the derived key would have been the same on every demo installation.
"""

import os
import tempfile
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
        # Never through a symlink (ELOOP): one planted there is replaced, not read.
        descriptor = os.open(demo_key_file(), os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(descriptor) as file:
            raw = file.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    # Only what ApiKey.generate makes: a file edited by hand is replaced, not trusted.
    return raw if raw.startswith("sbk_") and 20 <= len(raw) <= 100 and raw.isascii() else None


def _keep(raw: str) -> None:
    # A new file of mode 0600 (mkstemp: O_EXCL, never through a symlink) put in place with
    # os.replace, which replaces a symlink there rather than following it: a file left 0644
    # by hand, or a symlink to another file, never receives the key.
    path = demo_key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(raw + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
