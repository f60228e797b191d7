from django.apps import AppConfig
from django.db.models.signals import post_delete, pre_delete


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts and timeline"

    def ready(self) -> None:
        from .models import Contact

        pre_delete.connect(_read_owner, sender=Contact, dispatch_uid="contacts.read_owner")
        post_delete.connect(_uncount_deleted, sender=Contact, dispatch_uid="contacts.uncount")


def _read_owner(sender, instance, **kwargs) -> None:
    # The instance may be stale: lock the row and read who owns it now (same transaction).
    from .models import Contact

    row = Contact.objects.select_for_update().filter(pk=instance.pk).values("primary_agent_id")
    current = row.first()
    instance._owner_at_delete = current["primary_agent_id"] if current else None


def _uncount_deleted(sender, instance, **kwargs) -> None:
    # A deleted contact no longer weighs on its primary agent's load.
    owner = getattr(instance, "_owner_at_delete", instance.primary_agent_id)
    if owner:
        from .services import primary_load_apply

        primary_load_apply(company_id=instance.company_id, deltas={owner: -1})
