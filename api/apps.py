from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Public API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The schema's extension for the key authentication registers on import.
        from . import schema  # noqa: F401
