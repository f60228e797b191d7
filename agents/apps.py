from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Companies and agents"

    def ready(self) -> None:
        from . import access

        # Permissions of every app exist only after its own post_migrate, so sync on each.
        post_migrate.connect(access.sync_on_post_migrate, dispatch_uid="agents.sync_access_levels")
