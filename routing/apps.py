from django.apps import AppConfig
from django.db.models.signals import post_delete


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from .models import GroupMember, RuleMember

        post_delete.connect(_member_left, sender=GroupMember, dispatch_uid="routing.member_left")
        post_delete.connect(
            _member_left, sender=RuleMember, dispatch_uid="routing.rule_member_left"
        )


def _member_left(sender, instance, **kwargs) -> None:
    from .rounds import group_member_removed

    group_member_removed(
        agent_id=instance.agent_id,
        group_id=getattr(instance, "group_id", None),
        rule_id=getattr(instance, "rule_id", None),
    )
