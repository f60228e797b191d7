"""Routing rules for new contacts: the first active rule that matches starts a round."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from agents import zones
from agents.models import Agent, Company
from contacts.models import Contact
from contacts.services import contact_save

from . import engine
from .models import Round, RoutingRule
from .rounds import round_start
from .selectors import contact_facts, rule_facts_in_order


def _local_time(company: Company, now: datetime):
    return zones.local(now, company.time_zone).time()


def rule_for(
    *, contact: Contact, channel: str = "", now: datetime | None = None
) -> RoutingRule | None:
    """The first active rule (by position) that matches the new contact, or None."""
    rules = rule_facts_in_order(company_id=contact.company_id)
    if not rules:
        return None
    local = _local_time(contact.company, now or timezone.now())
    chosen = engine.first_match(rules, contact=contact_facts(contact), channel=channel, local=local)
    if chosen is None:
        return None
    # Read again as active: a rule paused or deleted since its facts were read starts nothing.
    return (
        RoutingRule.objects.select_related("company")
        .filter(pk=chosen, company_id=contact.company_id, paused=False)
        .first()
    )


def contact_route_new(*, contact: Contact, channel: str = "") -> Round | None:
    """Apply the routing rules to a contact that just arrived without a primary agent
    (inside the transaction that created it; ``round_start`` is atomic itself).

    No rule matched: the company default applies — the contact stays without a primary
    agent, so its texts and forms show in Active for every available agent."""
    if contact.primary_agent_id is not None:
        return None
    rule = rule_for(contact=contact, channel=channel)
    if rule is None:
        return None
    return round_start(contact=contact, source=rule, actor=None)


@transaction.atomic
def contact_save_routed(
    *,
    company: Company,
    contact: Contact | None,
    actor: Agent | None,
    values: dict[str, str],
    primary_agent: Agent | None,
    primary_agent_changed: bool,
    reason: str,
) -> Contact:
    """The contact forms' save (admin and Lead Center): ``contacts.services.contact_save``,
    then, for a new contact nobody chose an agent for, the routing rules."""
    created = contact is None
    contact = contact_save(
        company=company,
        contact=contact,
        actor=actor,
        values=values,
        primary_agent=primary_agent,
        primary_agent_changed=primary_agent_changed,
        reason=reason,
    )
    if created and primary_agent is None:
        contact_route_new(contact=contact)
    return contact
