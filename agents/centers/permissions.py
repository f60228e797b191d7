"""Who may do what in a contact center.

Company admins (access level Admin) manage every center of their company. Everyone else has
only what their role in that one center gives them (django-guardian object permissions,
granted by ``membership_set_role``): an admin of center A is nobody in center B.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from guardian.core import ObjectPermissionChecker

from ..access import is_company_admin
from .models import ContactCenter


def center_for_request(request: HttpRequest, pk: int) -> ContactCenter:
    """The center ``pk`` of the current company (another company's: 404)."""
    center = (
        ContactCenter.objects.select_related("company")
        .filter(pk=pk, company=request.company)
        .first()
    )
    if center is None:
        raise Http404("No such contact center.")
    return center


CENTER_PERMS = (
    "view_center_dashboard",
    "set_center_alerts",
    "coach_center",
    "edit_center_settings",
)


def center_rights(user, center: ContactCenter) -> frozenset[str]:
    """The user's rights in this one center, read once (two queries: user and group object
    permissions), so a page checks several without querying again."""
    if is_company_admin(user):
        return frozenset(CENTER_PERMS)
    if getattr(user, "_center_rights", (None, None))[0] == center.pk:
        return user._center_rights[1]
    rights = frozenset(ObjectPermissionChecker(user).get_perms(center))
    user._center_rights = (center.pk, rights)
    return rights


def can(user, perm: str, center: ContactCenter) -> bool:
    return perm in center_rights(user, center)


def require(user, perm: str, center: ContactCenter) -> None:
    if not can(user, perm, center):
        raise PermissionDenied("Your role in this contact center does not include this.")


# The model permissions the access level Admin needs for the centers' admin pages. They go
# in ``agents/access.py`` (``PERMISSIONS[AccessLevel.ADMIN]``) at integration; until then
# only superusers see these admin pages. The center pages themselves don't need them.
