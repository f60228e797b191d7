"""Rebuilding open-item counters when capacities change: the counter of an agent who gains
a capacity starts from what they really hold (their open interactions, counted by contacts,
and their open offers, counted by routing); one who loses it drops their counter
(``agents.availability.capacity.load_recount``). Here because it composes both apps."""

from collections.abc import Iterable

from django.db import transaction

from agents.models import Agent, Company
from contacts.queue import load_recount_interactions
from routing.rounds import offer_counts


def item_loads_rebuild(*, company: Company, agents: Iterable[Agent]) -> None:
    """Rebuild each agent's counter in the company, each in its own transaction (the counter's
    lock comes last in the order: nothing else is held)."""
    for agent in agents:
        with transaction.atomic():
            load_recount_interactions(
                company=company,
                agent=agent,
                offers=lambda a=agent: offer_counts(company=company, agent_ids=[a.pk]).get(a.pk, 0),
            )


def company_default_capacity_changed(*, company: Company) -> None:
    """The company's default capacity changed: every active agent of it without a capacity of
    their own gains, loses or changes theirs."""
    item_loads_rebuild(
        company=company,
        agents=Agent.objects.filter(companies=company, is_active=True, capacity__isnull=True),
    )
