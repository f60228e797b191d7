from django.db.models import QuerySet
from django.utils import timezone

from .models import Offer, ReassignmentGroup, Round


def open_offers(*, agent, company) -> QuerySet[Offer]:
    return (
        Offer.objects.filter(
            agent=agent,
            status=Offer.Status.OPEN,
            round__company=company,
            round__status=Round.Status.OPEN,
            expires_at__gt=timezone.now(),
        )
        .select_related("round__contact", "round__group", "round__rule")
        .order_by("expires_at", "pk")
    )


def open_round(*, contact) -> Round | None:
    return (
        Round.objects.filter(contact=contact, status=Round.Status.OPEN)
        .select_related("group", "rule")
        .prefetch_related("offers__agent")
        .first()
    )


def company_groups(*, company) -> QuerySet[ReassignmentGroup]:
    return ReassignmentGroup.objects.filter(company=company).order_by("name")


def company_group(*, company, pk: int | None) -> ReassignmentGroup | None:
    """The company's group with this id; None for another company's, a missing one or none."""
    return company_groups(company=company).filter(pk=pk).first() if pk is not None else None
