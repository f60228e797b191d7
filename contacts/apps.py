from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _search_triggers_install(sender, using, **kwargs) -> None:
    """After every ``migrate``: the searches' triggers again (``contacts.search_triggers``:
    SQLite drops them when a migration rebuilds the contacts table), once their table is
    there (not after migrating back past it)."""
    from . import search_triggers

    connection = connections[using]
    if "contacts_contactsearch" in connection.introspection.table_names():
        search_triggers.install(connection)


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts and timeline"

    def ready(self) -> None:
        post_migrate.connect(_search_triggers_install, sender=self)
