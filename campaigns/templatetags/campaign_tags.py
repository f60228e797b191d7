"""Template filters of the campaign pages."""

from django import template

from agents.phone import format_phone

register = template.Library()


@register.filter(name="phone")
def phone(e164: str) -> str:
    """A stored (E.164) number as people read it: ``+12025550191`` → ``+1 202-555-0191``."""
    return format_phone(e164 or "")
