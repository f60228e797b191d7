"""Licenses and upgrades of contact-center users: who may join a center with which license,
the upgrade from Ai Voice (keeping or removing the user's numbers, each upgrade recorded)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from ..locks import lock_agents
from ..models import Agent
from .models import (
    UPGRADE_TARGETS,
    AgentLine,
    ContactCenter,
    License,
    LicenseUpgrade,
    PhoneNumber,
)


# --- Licenses --------------------------------------------------------------------------------
def agent_license(agent: Agent) -> str:
    line = AgentLine.objects.filter(agent=agent).first()
    return line.license if line else License.AI_CONTACT_CENTER


DISCONTINUED_MESSAGE = (
    "Ai Voice with Call Center Add-On is discontinued: users who have it keep it, but it "
    "cannot be given to anyone else. Choose Ai Contact Center or Ai Sales."
)


def license_check_assignable(*, agent: Agent | None, license: str) -> None:
    """Refuse the discontinued license to anyone who doesn't already hold it."""
    if license != License.AI_VOICE_CC_ADDON:
        return
    if agent is None or agent.pk is None or agent_license(agent) != License.AI_VOICE_CC_ADDON:
        raise ValidationError(DISCONTINUED_MESSAGE, code="discontinued_license")


def agent_set_license(*, agent: Agent, license: str) -> AgentLine:
    license = License(license)
    license_check_assignable(agent=agent, license=license)
    line, _ = AgentLine.objects.update_or_create(agent=agent, defaults={"license": license})
    return line


def upgrade_billing(*, keep_numbers: bool, numbers: list[str]) -> str:
    """The billing consequence of an upgrade, as shown before it and recorded with it."""
    if keep_numbers and numbers:
        return "Billed for 1 additional number on this user's line (numbers kept)."
    if numbers:
        return (
            "No additional number billed: the user's numbers are removed; they can place "
            "outbound calls only from the contact center."
        )
    return "No additional number billed: the user has no direct number."


def agent_upgrade_license(
    *,
    agent: Agent,
    to_license: str,
    keep_numbers: bool,
    actor: Agent,
    center: ContactCenter | None = None,
) -> LicenseUpgrade:
    """Upgrade an Ai Voice user to Ai Contact Center or Ai Sales, instantly, and record it."""
    if to_license not in UPGRADE_TARGETS:
        raise ValidationError("Upgrade to Ai Contact Center or Ai Sales.", code="upgrade_target")
    with transaction.atomic():
        lock_agents([agent.pk])
        from_license = agent_license(agent)
        if from_license != License.AI_VOICE:
            raise ValidationError(
                f"{agent} holds {License(from_license).label}: only Ai Voice users are upgraded.",
                code="not_ai_voice",
            )
        numbers = list(
            PhoneNumber.objects.filter(agent=agent)
            .order_by("number")
            .values_list("number", flat=True)
        )
        if not keep_numbers:
            PhoneNumber.objects.filter(agent=agent).update(agent=None)
        AgentLine.objects.update_or_create(agent=agent, defaults={"license": to_license})
        return LicenseUpgrade.objects.create(
            agent=agent,
            upgraded_by=actor,
            center=center,
            from_license=from_license,
            to_license=to_license,
            numbers_kept=keep_numbers,
            numbers=numbers,
            billing=upgrade_billing(keep_numbers=keep_numbers, numbers=numbers),
        )
