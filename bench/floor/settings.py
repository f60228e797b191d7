"""The floor's settings: Switchboard's (same database, same connection settings), with a
URLconf of one endpoint and no middleware — the least a Django endpoint can do."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor.urls"
MIDDLEWARE: list[str] = []
