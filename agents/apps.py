from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_migrate, post_save


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Companies and agents"

    def ready(self) -> None:
        from . import access

        # Permissions of every app exist only after its own post_migrate, so sync on each.
        post_migrate.connect(access.sync_on_post_migrate, dispatch_uid="agents.sync_access_levels")
        user_logged_out.connect(_offline_on_logout, dispatch_uid="agents.offline_on_logout")
        from .availability.models import Holiday

        for signal in (post_save, post_delete):
            signal.connect(
                _holidays_changed, sender=Holiday, dispatch_uid=f"agents.holidays.{id(signal)}"
            )


def _holidays_changed(sender, instance, **kwargs) -> None:
    # The company row carries its holidays' dates (read by the webhook with no query).
    from .availability.rules import holidays_sync

    holidays_sync(instance.company_id)


def _offline_on_logout(sender, request, user, **kwargs) -> None:
    # Someone who logged out is not there to take texts, whatever they last chose.
    if user is not None:
        from .models import Presence
        from .services import agent_set_presence

        agent_set_presence(agent=user, presence=Presence.OFFLINE)
