import logging
import re
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from .models import Agent
from .permissions import parse_pk
from .selectors import companies_for_user

logger = logging.getLogger(__name__)

SESSION_KEY = "company_id"
# Write last_seen_at at most this often per agent: presence needs minutes, not requests.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


# Django makes session keys of lowercase letters and digits (32 of them).
SESSION_KEY_SHAPE = re.compile(r"[a-z0-9]{8,64}")


class HeaderGuardMiddleware:
    """Headers no browser sends, made harmless before anything stores or looks them up.

    A NUL byte in text makes PostgreSQL fail: the session cookie is looked up as typed (so a
    broken one made every page a 500), the login lockout records the user agent and the
    Accept header of failed logins. A session cookie no session key could look like is
    dropped (the visitor is simply not logged in); NULs are removed from those two headers."""

    RECORDED_HEADERS = ("HTTP_USER_AGENT", "HTTP_ACCEPT")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = settings.SESSION_COOKIE_NAME
        value = request.COOKIES.get(name)
        if value is not None and not SESSION_KEY_SHAPE.fullmatch(value):
            request.COOKIES = {k: v for k, v in request.COOKIES.items() if k != name}
        for header in self.RECORDED_HEADERS:
            if "\x00" in request.META.get(header, ""):
                request.META[header] = request.META[header].replace("\x00", "")
        return self.get_response(request)


# The machine-to-machine API: bearer tokens, JSON, never a browser session.
API_PREFIX = "/api/"
# What the skipped middleware would have added to every answer (SecurityMiddleware, first in
# the list, still runs for the API: nosniff, referrer policy, HSTS, the HTTPS redirect).
API_SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    # JSON is never a page: nothing may load, run or frame it.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def api_not_found(path: str) -> JsonResponse:
    """An address under /api/ that names nothing (an id that is no number, a missing slash):
    problem details, as the API answers everything, not the HTML 404 page."""
    detail = "Nothing is at this address."
    try:
        resolve(path + "/")
        detail += f" Did you mean {path}/ (with the slash)?"
    except Resolver404:
        pass
    body = {"type": "urn:switchboard:problem:not-found", "title": "Not found", "status": 404}
    response = JsonResponse(body | {"detail": detail}, status=404)
    response["Content-Type"] = "application/problem+json"
    for header, value in API_SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
    return response


class ApiFastPathMiddleware:
    """``/api/`` views run straight after the security middleware, without the browser's
    middleware: no session read, no user or company lookup (and no ``last_seen_at`` write),
    no messages, no login lockout, no CSRF token, no per-response CSP rendering. The inbound
    webhook is the hot path (docs/performance.md); it authenticates by bearer token.

    Only views marked ``csrf_exempt`` (which say they authenticate otherwise) take this path;
    anything else under /api/ goes through the whole stack as before; an address under
    /api/ that resolves to no view is a problem-details 404 (``api_not_found``). Such views get
    neither ``request.user`` nor ``request.session``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return api_not_found(request.path_info)
        if not getattr(match.func, "csrf_exempt", False):
            return self.get_response(request)
        request.resolver_match = match
        # A page served earlier by this thread may have activated its company's zone.
        timezone.deactivate()
        try:
            response = match.func(request, *match.args, **match.kwargs)
            # The API's (DRF) answers render late, as Django's handler would render them.
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
        except DATABASE_DOWN as error:
            if not database_unreachable(error):
                raise  # a deadlock, a timeout, a bug: Django's 500, logged with its traceback
            response = database_unavailable(error)
        for header, value in API_SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        return response


# What the database driver raises when PostgreSQL cannot be reached (refused, restarting,
# a dropped connection), among other things: ``database_unreachable`` tells which.
DATABASE_DOWN = (OperationalError, InterfaceError)
# SQLSTATEs of a lost or refused connection: class 08 (connection exception), and the server
# shutting down or starting up (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
# cannot_connect_now). A deadlock (40P01), a serialization failure (40001) or a statement
# timeout (57014) is not one: the database answered.
CONNECTION_LOST_SQLSTATES = ("57P01", "57P02", "57P03")
# How long a client should wait before sending again.
DATABASE_RETRY_AFTER = 5


def database_unreachable(error: DatabaseError) -> bool:
    """Whether ``error`` means the connection to the database is gone (or never came up),
    rather than a query the database refused. Without an SQLSTATE (psycopg sets none when
    it could not connect or the server vanished mid-query) the connection is asked."""
    if isinstance(error, InterfaceError):
        return True  # "connection already closed"
    if not isinstance(error, OperationalError):
        return False
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith("08") or sqlstate in CONNECTION_LOST_SQLSTATES
    if not hasattr(error.__cause__, "sqlstate"):
        return False  # not psycopg's: SQLite's "database is locked", "no such table"
    return not connection.is_usable()


def database_unavailable(error: DatabaseError) -> JsonResponse:
    """The API's answer when the database is unreachable: 503 with the webhook's error
    shape (``{"error": ...}``) and ``Retry-After``, instead of an HTML 500. Nothing was
    stored, so the sender retries (with its ``Idempotency-Key``, if it sent one)."""
    logger.error("The database is unreachable; answered 503.", exc_info=error)
    response = JsonResponse(
        {"error": "The service is briefly unavailable; nothing was stored. Try again shortly."},
        status=503,
    )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    for header, value in API_SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
    return response


class DatabaseUnavailableMiddleware:
    """The same 503 for /api/ views that go through the whole stack (the fast path catches
    its own, ``ApiFastPathMiddleware``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path_info.startswith(API_PREFIX) and database_unreachable(exception):
            return database_unavailable(exception)
        return None


def resolve_current_company(request):
    """The company the user works in: the one picked this session, else their first."""
    user = request.user
    if not user.is_authenticated:
        return None
    allowed = companies_for_user(user)
    picked = request.session.get(SESSION_KEY)
    company = allowed.filter(pk=picked).first() if picked else None
    return company or allowed.order_by("name", "pk").first()


# The company a live page was rendered for, sent by its fragment fetches (static/js/live.js).
PAGE_COMPANY_HEADER = "X-Switchboard-Company"


def _page_of_another_company(request) -> HttpResponse | None:
    """A live page's fetch of its fragment after the session moved to another company (in
    another tab): 409 and a sentence, instead of the other company's items in a page that
    says it is the first's. Only fetches that name their page's company are checked."""
    named = request.headers.get(PAGE_COMPANY_HEADER)
    if not named or request.company is None or named == str(request.company.pk):
        return None
    return HttpResponse(
        f"You switched to {request.company.name} in another tab: reload this page to work there.",
        status=409,
        content_type="text/plain; charset=utf-8",
    )


class CurrentCompanyMiddleware:
    """Set ``request.company``; every scoped query starts from it. Also note when the agent
    was last seen, which presence relies on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # PostgreSQL can't compare text with NUL characters: refuse such addresses plainly.
        if any("\x00" in value for values in request.GET.lists() for value in values[1]):
            return HttpResponseBadRequest("Null characters are not allowed in the address.")
        request.company = resolve_current_company(request)
        stale = _page_of_another_company(request)
        if stale is not None:
            return stale
        if request.company is not None:
            # Pages show times in the company's zone.
            try:
                timezone.activate(zoneinfo.ZoneInfo(request.company.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()  # the server's zone (not UTC as zones.zone_of would)
        else:
            timezone.deactivate()
        user = request.user
        if user.is_authenticated:
            now = timezone.now()
            if user.last_seen_at is None or now - user.last_seen_at > LAST_SEEN_RESOLUTION:
                Agent.objects.filter(pk=user.pk).update(last_seen_at=now)
                user.last_seen_at = now
        return self.get_response(request)


class BadIdMiddleware:
    """Ids typed by a person (an admin action's selection, an address) that no row can have
    get a clear answer instead of a 500.

    Django's admin filters an action's queryset with the posted ids as they are: "abc" is a
    ValueError, 9223372036854775808 an OverflowError on SQLite (and its own lookups such as
    ``?contact=<id>`` or an autocomplete field hand the database any number). The action's
    selection is checked here, after the CSRF check; what reaches the database anyway ends
    as a 400 saying what was wrong."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or not request.path.startswith(reverse("admin:index")):
            return None
        bad = [v for v in request.POST.getlist(ACTION_CHECKBOX_NAME) if parse_pk(v) is None]
        if not bad:
            return None
        messages.error(
            request,
            f"“{bad[0][:40]}” is not the id of a row: nothing was changed. "
            "Tick the rows in the list and choose the action again.",
        )
        return HttpResponseRedirect(request.get_full_path())

    def process_exception(self, request, exception):
        too_large = isinstance(exception, OverflowError)
        # Django's own message when a lookup on an integer field gets text (its admin widgets
        # and lookups pass what was typed straight to the query).
        not_a_number = isinstance(exception, ValueError) and "expected a number but got" in str(
            exception
        )
        if too_large or not_a_number:
            return HttpResponseBadRequest(
                "An id in the address or the form is not a number any record has "
                "(too large, or not a number): no such record. Go back and pick it from the list.",
                content_type="text/plain; charset=utf-8",
            )
        return None
