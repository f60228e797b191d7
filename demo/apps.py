from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The product's demo data (``manage.py seed_demo``): an entry point above every app."""

    name = "demo"
    verbose_name = "Demo data"
