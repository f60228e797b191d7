from .live import safety_seconds
from .models import Presence
from .selectors import companies_for_user


def current_company(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_company": getattr(request, "company", None),
        # Lazy: evaluated only by templates that show the company picker.
        "user_companies": companies_for_user(user).order_by("name"),
        "presence_choices": Presence.choices,
        # How often a live page fetches its parts anyway (live_parts.js reads it from the page)
        "live_safety_seconds": safety_seconds(),
    }
