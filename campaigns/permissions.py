"""Who may see and work which campaign pages (company scoping included)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from agents.models import AccessLevel
from agents.permissions import parse_pk

from .models import Campaign, ListImport

SUPERVISING = (AccessLevel.ADMIN, AccessLevel.SUPERVISOR)
WORKING = (AccessLevel.AGENT, AccessLevel.SUPERVISOR, AccessLevel.ADMIN)


def supervises(user) -> bool:
    return user.is_superuser or user.access_level in SUPERVISING


def can_manage(user, campaign: Campaign) -> bool:
    """Pause, resume and recycle from the dashboard: the company's supervisors and admins
    (those who watch its progress there; the campaign is the current company's, checked by
    ``campaign_in_scope``). Agents never."""
    return supervises(user)


def require_manage(user, campaign: Campaign) -> None:
    if not can_manage(user, campaign):
        raise PermissionDenied("Only supervisors and admins may pause, resume or recycle.")


def campaign_in_scope(request: HttpRequest, pk) -> Campaign:
    """The campaign of the current company with this id, or 404 (never another company's)."""
    pk = parse_pk(str(pk))
    campaign = (
        Campaign.objects.filter(pk=pk, company=request.company)
        .select_related("queue", "contact_list")
        .first()
        if pk is not None
        else None
    )
    if campaign is None:
        raise Http404("No such campaign.")
    return campaign


def import_in_scope(request: HttpRequest, list_id, pk) -> ListImport:
    ids = parse_pk(str(list_id)), parse_pk(str(pk))
    queryset = ListImport.objects.filter(pk=ids[1], contact_list_id=ids[0]).select_related(
        "contact_list"
    )
    if not request.user.is_superuser:
        queryset = queryset.filter(contact_list__company=request.company)
    found = queryset.first() if None not in ids else None
    if found is None:
        raise Http404("No such import.")
    return found
