from django.apps import AppConfig
from django.db.models.signals import post_delete


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts and timeline"

    def ready(self) -> None:
        from .models import Contact

        post_delete.connect(_uncount_deleted, sender=Contact, dispatch_uid="contacts.uncount")


def _uncount_deleted(sender, instance, **kwargs) -> None:
    # A deleted contact no longer weighs on its primary agent's load.
    if instance.primary_agent_id:
        from .services import primary_load_apply

        primary_load_apply(company_id=instance.company_id, deltas={instance.primary_agent_id: -1})
