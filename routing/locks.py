"""Routing's levels of the one lock order (``agents/lockorder.py``): groups, then rules (the
distributions: one decision at a time per group or rule), then rounds, each in pk order — then
contacts and the load counters, through ``contacts.locks``. An offer's email row and a
response deadline's email row each stand alone in their transaction."""

from collections.abc import Iterable

from agents.lockorder import Level, lock_taken
from agents.locks import lock_email_row

from .models import DeadlineEmail, Offer, ReassignmentGroup, Round, RoutingRule


# ``of=("self",)`` everywhere: a lock must never reach the rows select_related joins in (the
# company row locked FOR UPDATE would block every other transaction's foreign-key checks on it
# at commit — a deadlock PostgreSQL reports between a handover and a plain reassignment).
def lock_group(pk: int) -> ReassignmentGroup:
    lock_taken(Level.GROUP, [pk])
    return (
        ReassignmentGroup.objects.select_for_update(of=("self",))
        .select_related("company")
        .get(pk=pk)
    )


def lock_rule(pk: int) -> RoutingRule:
    lock_taken(Level.RULE, [pk])
    return RoutingRule.objects.select_for_update(of=("self",)).select_related("company").get(pk=pk)


def lock_source(source: ReassignmentGroup | RoutingRule) -> ReassignmentGroup | RoutingRule:
    """Lock the group or rule a decision is made for; one decision at a time per source."""
    if isinstance(source, ReassignmentGroup):
        return lock_group(source.pk)
    return lock_rule(source.pk)


def lock_sources(*, group_ids: Iterable[int], rule_ids: Iterable[int]) -> None:
    """Lock several groups and rules: groups first, then rules, each in pk order."""
    groups = sorted({pk for pk in group_ids if pk})
    rules = sorted({pk for pk in rule_ids if pk})
    if groups:
        lock_taken(Level.GROUP, groups)
        list(ReassignmentGroup.objects.select_for_update().filter(pk__in=groups).order_by("pk"))
    if rules:
        lock_taken(Level.RULE, rules)
        list(RoutingRule.objects.select_for_update().filter(pk__in=rules).order_by("pk"))


def lock_source_of_round(round_id: int) -> None:
    """Lock the group or rule of a round (read without a lock: it never changes)."""
    sources = Round.objects.filter(pk=round_id).values_list("group_id", "rule_id").first()
    if sources:
        lock_sources(group_ids=[sources[0]], rule_ids=[sources[1]])


def lock_round(round_id: int) -> Round | None:
    lock_taken(Level.ROUND, [round_id])
    return (
        Round.objects.select_for_update(of=("self",))
        .select_related("group", "rule", "company")
        .filter(pk=round_id)
        .first()
    )


def lock_rounds(round_ids: Iterable[int]) -> list[Round]:
    ids = sorted(set(round_ids))
    if ids:
        lock_taken(Level.ROUND, ids)
    return list(Round.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))


def lock_offer(offer_id: int) -> Offer | None:
    """An offer, for its email (no other lock is taken in that transaction)."""
    lock_taken(Level.OFFER_EMAIL)
    return (
        Offer.objects.select_for_update(of=("self",))
        .select_related("round__contact", "round__group", "round__rule", "round__company", "agent")
        .filter(pk=offer_id)
        .first()
    )


def lock_deadline_email(pk: int) -> DeadlineEmail | None:
    """A response deadline's email row (``agents.locks.lock_email_row``), alone in its
    transaction; None when another worker holds it."""
    return lock_email_row(DeadlineEmail, level=Level.DEADLINE_EMAIL, pk=pk)
