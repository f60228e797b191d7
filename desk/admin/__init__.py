"""The admin screens that compose several apps (Django's admin autodiscovery imports this)."""

from . import agents, companies, contacts  # noqa: F401 - each module registers its admin
