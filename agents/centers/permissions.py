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


def _role_rights(user, center: ContactCenter) -> frozenset[str]:
    """What the user's role in this one center grants (django-guardian object permissions;
    a superuser holds them all), read once (two queries: user and group object permissions),
    so a page checks several without querying again."""
    if getattr(user, "_center_rights", (None, None))[0] == center.pk:
        return user._center_rights[1]
    rights = frozenset(ObjectPermissionChecker(user).get_perms(center))
    user._center_rights = (center.pk, rights)
    return rights


def center_rights(user, center: ContactCenter) -> frozenset[str]:
    """The user's rights in this one center: a company admin manages every center of the
    company; anyone else has what their role there grants."""
    if is_company_admin(user):
        return frozenset(CENTER_PERMS)
    return _role_rights(user, center)


def can(user, perm: str, center: ContactCenter) -> bool:
    return perm in center_rights(user, center)


def require(user, perm: str, center: ContactCenter) -> None:
    if not can(user, perm, center):
        raise PermissionDenied("Your role in this contact center does not include this.")


COACH_REFUSED = "Only the center's supervisors and admins may coach its agents."


def can_coach(user, center: ContactCenter) -> bool:
    """Listen in, barge in, take over: only the center's own supervisors and admins (their
    role's object permission), never a company admin who is not one of them — someone on the
    call. The one rule for the dashboard's buttons, the coach view and ``coaching_request``."""
    return "coach_center" in _role_rights(user, center)


def require_coach(user, center: ContactCenter) -> None:
    if not can_coach(user, center):
        raise PermissionDenied(COACH_REFUSED)


# The model permissions the access level Admin needs for the centers' admin pages. They go
# in ``agents/access.py`` (``PERMISSIONS[AccessLevel.ADMIN]``) at integration; until then
# only superusers see these admin pages. The center pages themselves don't need them.
