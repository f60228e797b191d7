"""Password guessing: django-axes locks an email + address pair out after a few failures,
and an address out for every email after more (one address trying many emails).

Settings (``AXES_*`` in ``config/settings.py``, from ``LOGIN_FAILURE_LIMIT``,
``LOGIN_ADDRESS_FAILURE_LIMIT`` and ``LOGIN_LOCKOUT_MINUTES``) say when; this module says how
it looks: the login page (ours or the admin's) with a message instead of axes' bare text, the
email counted however it is typed (logins are case-insensitive), and an admin page where
admins unlock the people they manage.
"""

import ipaddress
import math

from axes.admin import AccessAttemptAdmin
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .access import is_company_admin
from .permissions import agents_in_scope


class LoginLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with two limits: ``AXES_FAILURE_LIMIT`` failures for one email
    from one address lock that pair; ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures from one
    address, whatever the emails, lock the address. Axes compares a single count with a
    single limit, so the address's count is put on the pair's scale.

    ``AXES_LOCKOUT_PARAMETERS`` lists the pair, then the address."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        by_pair, by_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        pair_limit = get_failure_limit(request, credentials)
        address_limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
        request.lockout_by_address = by_address >= address_limit and by_pair < pair_limit
        return max(by_pair, by_address - address_limit + pair_limit)

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        # A success forgets that email's failures from the address, not the others': logging
        # in to one's own account must not wipe the count of the emails one sprayed.
        pair, _ = self.filter_user_attempts(request, credentials)
        count, _ = pair.delete()
        return count


def lockout_message(request: HttpRequest | None = None) -> str:
    cool_off = get_cool_off(request)
    if getattr(request, "lockout_by_address", False):
        # A company's admin sees only their own people's rows, never an address's others.
        start = "Too many failed logins from your address, with several emails: "
        operator = (
            "only the operator of this site can unlock your address sooner "
            "(your company admin cannot)."
        )
        if not cool_off:
            return start + operator[0].upper() + operator[1:]
        return start + f"try again in {_minutes(cool_off)}; {operator}"
    start = "Too many failed attempts to log in with this email from your address: "
    unlock = "ask an admin to unlock your login"
    if not cool_off:
        return start + unlock + "."
    return start + f"try again in {_minutes(cool_off)} or {unlock}."


def _minutes(cool_off) -> str:
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def login_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The email as the login form reads it (case and spaces don't make a new person)."""
    source = credentials if credentials is not None else request.POST
    username = source.get("username") or ""
    # Axes stores it as text: a NUL byte would fail on PostgreSQL.
    return str(username).replace("\x00", "").strip().lower()[:255]


def client_address(request: HttpRequest) -> str | None:
    """The address a lockout counts by: the connection's, or behind our proxy
    (``BEHIND_PROXY=1``) the one it appended last to X-Forwarded-For (earlier entries are
    whatever the client sent). Anything that is not an IP address is not trusted.

    An IPv6 address counts as its /64 (written as the network's first address,
    ``2001:db8:1:2::``): one subscriber usually holds a whole /64 and can pick a new address
    in it for every try. An IPv4-mapped IPv6 address counts as the IPv4 address."""
    candidate = request.META.get("REMOTE_ADDR")
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        candidate = forwarded or candidate
    try:
        address = ipaddress.ip_address(candidate or "")
    except ValueError:
        remote = request.META.get("REMOTE_ADDR")
        return remote if remote and remote != candidate else None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False).network_address)
    return str(address)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None = None
) -> HttpResponse:
    """The login page that was about to be shown, with the lockout as its error (429)."""
    message = lockout_message(request)
    context = getattr(original_response, "context_data", None) or {}
    template = getattr(original_response, "template_name", None)
    form = context.get("form")
    if template and form is not None:
        form.errors.clear()
        form.add_error(None, message)
        return render(request, template, context, status=429)
    return HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")


def _is_admin(user) -> bool:
    # Stricter than ``is_company_admin`` alone (it unlocks other people's logins): an
    # active user, and an Admin only while ``is_staff`` says so too.
    return user.is_active and (user.is_superuser or (user.is_staff and is_company_admin(user)))


class LoginLockoutAdmin(AccessAttemptAdmin):
    """Failed logins and lockouts. Superusers see all; a company admin sees (and unlocks) the
    people of their company only. Unlocking deletes the attempts: the count starts again."""

    actions = ["unlock"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(username__in=agents_in_scope(request).values("email"))

    def has_module_permission(self, request):
        return _is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return _is_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return _is_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Unlock the selected logins", permissions=["delete"])
    def unlock(self, request, queryset):
        names = sorted(set(queryset.values_list("username", flat=True)))
        count, _ = queryset.delete()
        self.message_user(
            request,
            f"Unlocked {', '.join(names) or 'nobody'}: they can log in again "
            f"({count} failed attempt record(s) removed).",
            messages.SUCCESS,
        )


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, LoginLockoutAdmin)
