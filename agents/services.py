from django.utils import timezone

from .centers.models import CenterMembership
from .live import live_changed, stream_center, stream_workload
from .models import Agent, Presence


def agent_set_presence(*, agent: Agent, presence: str) -> Agent:
    """Set the agent's own presence (Available / Away / Offline); a change tells the live
    pages that show it (each company's workload page, the dashboards of the agent's
    centers) after commit."""
    presence = Presence(presence)
    now = timezone.now()
    changed = agent.presence != presence
    Agent.objects.filter(pk=agent.pk).update(
        presence=presence, presence_changed_at=now, last_seen_at=now
    )
    agent.presence, agent.presence_changed_at, agent.last_seen_at = presence, now, now
    if changed:
        centers: dict[int, list[str]] = {}
        for center_id, company_id in CenterMembership.objects.filter(agent=agent).values_list(
            "center_id", "center__company_id"
        ):
            centers.setdefault(company_id, []).append(stream_center(center_id))
        for company_id in agent.companies.values_list("pk", flat=True):
            live_changed(
                company_id=company_id,
                streams=[stream_workload(company_id), *centers.get(company_id, ())],
            )
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
