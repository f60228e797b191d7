import re
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils import timezone

from .models import Agent
from .selectors import companies_for_user

SESSION_KEY = "company_id"
# Write last_seen_at at most this often per agent: presence needs minutes, not requests.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


# Django makes session keys of lowercase letters and digits (32 of them).
SESSION_KEY_SHAPE = re.compile(r"[a-z0-9]{8,64}")


class SessionCookieGuardMiddleware:
    """Forget a session cookie that no session key could look like (before SessionMiddleware).

    The cookie is looked up in the database as typed: a NUL byte in it made PostgreSQL fail
    (a 500 on every page). Such a visitor is simply not logged in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = settings.SESSION_COOKIE_NAME
        value = request.COOKIES.get(name)
        if value is not None and not SESSION_KEY_SHAPE.fullmatch(value):
            request.COOKIES = {k: v for k, v in request.COOKIES.items() if k != name}
        return self.get_response(request)


def resolve_current_company(request):
    """The company the user works in: the one picked this session, else their first."""
    user = request.user
    if not user.is_authenticated:
        return None
    allowed = companies_for_user(user)
    picked = request.session.get(SESSION_KEY)
    company = allowed.filter(pk=picked).first() if picked else None
    return company or allowed.order_by("name", "pk").first()


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
        if request.company is not None:
            # Pages show times in the company's zone.
            try:
                timezone.activate(zoneinfo.ZoneInfo(request.company.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        user = request.user
        if user.is_authenticated:
            now = timezone.now()
            if user.last_seen_at is None or now - user.last_seen_at > LAST_SEEN_RESOLUTION:
                Agent.objects.filter(pk=user.pk).update(last_seen_at=now)
                user.last_seen_at = now
        return self.get_response(request)
