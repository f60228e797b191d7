from django.utils import timezone

from .models import Agent, Presence


def agent_set_presence(*, agent: Agent, presence: str) -> Agent:
    """Set the agent's own presence (Available / Away / Offline)."""
    presence = Presence(presence)
    now = timezone.now()
    Agent.objects.filter(pk=agent.pk).update(
        presence=presence, presence_changed_at=now, last_seen_at=now
    )
    agent.presence, agent.presence_changed_at, agent.last_seen_at = presence, now, now
    return agent


def company_rotate_webhook_token(*, company) -> str:
    """Give the company a new inbound-webhook token; return it (it is shown only now)."""
    token = company.new_webhook_token()
    company_set_webhook_token(company=company, token=token)
    return token


def company_set_webhook_token(*, company, token: str) -> None:
    """Set a known token (the demo's); production uses ``company_rotate_webhook_token``."""
    company.webhook_token_hash = company.hash_token(token)
    company.webhook_token_hint = token[-4:]
    company.webhook_token_rotated_at = timezone.now()
    company.save(
        update_fields=["webhook_token_hash", "webhook_token_hint", "webhook_token_rotated_at"]
    )
