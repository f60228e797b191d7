"""Routing rules for new contacts: which rule (if any) a new contact matches, over plain facts."""

from dataclasses import dataclass
from datetime import time


@dataclass(frozen=True)
class ContactFacts:
    source: str
    tags: tuple[str, ...]  # lower-case
    has_phone: bool
    has_email: bool


@dataclass(frozen=True)
class RuleFacts:
    id: int
    sources: frozenset[str]  # lower-case; empty = any
    channels: frozenset[str]  # lower-case; empty = any
    tag: str  # lower-case; "" = any
    has_phone: str  # "", "yes" or "no"
    has_email: str
    active_from: time | None
    active_until: time | None


def csv_set(value: str) -> frozenset[str]:
    """A comma-separated setting as a set of lower-case words."""
    return frozenset(part.strip().lower() for part in (value or "").split(",") if part.strip())


def _inside(local: time, start: time, end: time) -> bool:
    # A window that ends before it starts runs over midnight.
    return start <= local < end if start <= end else (local >= start or local < end)


def rule_matches(rule: RuleFacts, *, contact: ContactFacts, channel: str, local: time) -> bool:
    """Whether the rule takes this new contact; ``local`` is the time in the company's zone."""
    if rule.sources and contact.source.strip().lower() not in rule.sources:
        return False
    if rule.channels and channel.lower() not in rule.channels:
        return False
    if rule.tag and rule.tag not in contact.tags:
        return False
    for flag, value in ((rule.has_phone, contact.has_phone), (rule.has_email, contact.has_email)):
        if (flag == "yes" and not value) or (flag == "no" and value):
            return False
    if rule.active_from and rule.active_until:
        return _inside(local, rule.active_from, rule.active_until)
    return True


def first_match(
    rules: list[RuleFacts], *, contact: ContactFacts, channel: str, local: time
) -> int | None:
    """The id of the first rule (in the order given) that takes the contact, or None."""
    for rule in rules:
        if rule_matches(rule, contact=contact, channel=channel, local=local):
            return rule.id
    return None
