"""The inbound webhook: ``POST /api/inbound/`` with the company's bearer token. An entry point
of routing: it checks the request and hands it to ``routing.inbound.inbound_receive``."""

import json
import logging
import math
import time

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from agents.lockout import client_address
from agents.models import Company
from agents.rawsql import json_bytes
from agents.selectors import company_by_token_hash
from contacts.interactions import MAX_BODY_CHARS
from contacts.models import Channel, Interaction

from .inbound import IdempotencyKeyReused, inbound_receive

logger = logging.getLogger(__name__)


class InboundForm(forms.Form):
    """The webhook's fields. Never rendered or changed per request, so every instance shares
    the class's field objects instead of deep-copying them (~0.15 ms a call; validation
    only reads them)."""

    channel = forms.ChoiceField(
        choices=Channel.choices,
        error_messages={
            "invalid_choice": "Unknown channel “%(value)s”: use text, form, call or chat.",
            "required": "Say which channel this came from: text, form, call or chat.",
        },
    )
    phone = forms.CharField(
        max_length=40, error_messages={"required": "A phone number is required."}
    )
    name = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(max_length=254, required=False)
    body = forms.CharField(
        max_length=MAX_BODY_CHARS,
        required=False,
        strip=False,
        error_messages={
            "max_length": f"The body is too long: at most {MAX_BODY_CHARS} characters "
            "(it has %(show_value)d)."
        },
    )
    source = forms.CharField(max_length=100, required=False)
    contact_center = forms.CharField(max_length=200, required=False)
    # Skills-based centers rank their members for the type of call (e.g. "billing").
    call_type = forms.CharField(max_length=100, required=False)


class _SharedFields(dict):
    """Fields that ``BaseForm.__init__``'s deep copy hands out as they are."""

    def __deepcopy__(self, memo):
        return self


InboundForm.base_fields = _SharedFields(InboundForm.base_fields)


def _error(status: int, message: str, errors: dict | None = None) -> JsonResponse:
    payload: dict = {"error": message}
    if errors:
        payload["errors"] = errors
    response = JsonResponse(payload, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="switchboard"'
    return response


UNSTORABLE_TEXT = (
    "Must be text that UTF-8 can encode: it holds a lone surrogate (\\ud800-\\udfff), "
    "half of a character."
)


def _is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _too_large(limit: int) -> JsonResponse:
    return _error(413, f"The request is too large: at most {limit} bytes.")


def _company_for(request: HttpRequest) -> Company | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    # Written out (an indexed lookup by the token's hash): the ORM would spend longer building
    # the statement than the database running it, on every webhook call. Not cached, so a
    # rotated token stops working at once in every process.
    return company_by_token_hash(Company.hash_token(token))


# --- Wrong tokens, counted per address -------------------------------------------------------
# The token is looked up first (one indexed query by its SHA-256, as cheap for a right token as
# for a wrong one), so the right token always works, even from an address that is throttled
# (a company behind the same NAT as a guesser). Only wrong ones are counted: one cache
# operation each, in a fixed window per address; nothing is added to a call that succeeds.
FAILURES_KEY = "webhook:token-failures:{address}:{window}"


def _address(request: HttpRequest) -> str:
    return client_address(request) or "unknown"


def _window_seconds() -> int:
    return max(1, settings.WEBHOOK_TOKEN_FAILURE_WINDOW_SECONDS)


def _failure_key(address: str, now: float, key_format: str = FAILURES_KEY) -> str:
    # The window is in the key: a count never outlives its window, even without its expiry.
    window = int(now // _window_seconds())
    return key_format.format(address=address, window=window)


def _count_token_failure(request: HttpRequest) -> int | None:
    """Count a wrong or missing token from the request's address; over the limit, the
    seconds until its window ends (``Retry-After``), else None."""
    return count_address_failure(request)


def count_address_failure(
    request: HttpRequest, *, key_format: str = FAILURES_KEY, what: str = "webhook tokens"
) -> int | None:
    """``_count_token_failure`` under another count (``key_format``, with ``{address}`` and
    ``{window}``) and the same limit and window: the API's wrong keys (api/auth.py) are
    counted with it, apart from the webhook's tokens."""
    limit = settings.WEBHOOK_TOKEN_FAILURE_LIMIT
    if limit <= 0:  # 0: not throttled
        return None
    span = _window_seconds()
    now = time.time()
    key = _failure_key(_address(request), now, key_format)
    left = max(1, math.ceil(span - now % span))
    try:
        try:
            failures = cache.incr(key)
        except ValueError:  # the window's first failure (or two at once: one adds)
            failures = 1 if cache.add(key, 1, timeout=left + 1) else cache.incr(key)
    except Exception:  # noqa: BLE001 - the count is best effort: cache down, a plain 401
        logger.warning("Wrong %s cannot be counted: the cache is unreachable.", what)
        return None
    return left if failures > limit else None


def token_failures_clear(address: str) -> None:
    """Forget the current window's wrong tokens of ``address`` (an operator's shell, tests)."""
    cache.delete(_failure_key(address, time.time()))


def inbound_answer(interaction: Interaction) -> dict:
    """The answer's body (201, or 200 for a replay); the API's inbound endpoint sends it too."""
    answer = {
        "interaction": interaction.pk,
        "contact": interaction.contact_id,
        "routed_to": interaction.routed_to.email if interaction.routed_to_id else None,
        "pool": interaction.pool or None,
        "reason": interaction.route_reason,
    }
    if interaction.center_id:
        # The ring list: who rings, in order (1, 2, …; all 1 for simultaneous), on which devices.
        answer["contact_center"] = {"id": interaction.center_id, "name": interaction.center.name}
        answer["ring"] = interaction.ring
    return answer


@csrf_exempt  # authenticated by bearer token, not by a browser session
def inbound(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        # (Django's require_POST answers an empty text/html 405; callers here read JSON)
        response = _error(405, f"Send events with POST, not {request.method[:10]}.")
        response["Allow"] = "POST"
        return response
    checked = inbound_request(request)
    if isinstance(checked, HttpResponse):
        return checked
    company, key, fields = checked
    try:
        interaction, replayed = inbound_receive(company=company, idempotency_key=key, **fields)
    except IdempotencyKeyReused as error:
        return _error(422, error.messages[0])
    except ValidationError as error:
        return _error(400, "Some fields are not right.", error.message_dict)
    # (encoded by orjson: a 500-member center's ring list is 50 KB, ~0.4 ms by json.dumps)
    response = HttpResponse(
        json_bytes(inbound_answer(interaction)),
        content_type="application/json",
        status=200 if replayed else 201,
    )
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def inbound_request(request: HttpRequest) -> HttpResponse | tuple[Company, str, dict]:
    """What every call to the webhook is checked for before anything is recorded: the
    company's token (a wrong one counted per address), the size, the JSON, the fields and
    the Idempotency-Key. The company, the key and the fields for ``inbound_receive``; or the
    answer that refuses the request (401, 413, 429, 400). (The bench's second floor runs
    exactly these checks: ``bench/floor/urls_checked.py``.)"""
    company = _company_for(request)
    if company is None:
        retry_after = _count_token_failure(request)
        if retry_after is not None:
            response = _error(
                429,
                "Too many missing or wrong tokens from your address: try again in "
                f"{retry_after} seconds with Authorization: Bearer <company token>.",
            )
            response["Retry-After"] = str(retry_after)
            return response
        return _error(401, "Missing or wrong token: send Authorization: Bearer <company token>.")
    # Django's request.body trusts CONTENT_LENGTH to be a number (runserver passes any text).
    declared = (request.META.get("CONTENT_LENGTH") or "0").strip()
    if not (declared.isascii() and declared.isdigit()):
        return _error(400, "The Content-Length header must be a number of bytes.")
    # Read when used, so a changed setting (or a test's override) applies at once.
    limit = settings.WEBHOOK_MAX_REQUEST_BYTES
    if int(declared) > limit:
        return _too_large(limit)
    try:
        raw = request.body
    except RequestDataTooBig:
        return _too_large(limit)
    if len(raw) > limit:
        return _too_large(limit)
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _error(400, "The body is not valid JSON.")
    if not isinstance(data, dict):
        return _error(400, "The body must be a JSON object.")
    key = request.headers.get("Idempotency-Key", "").strip()
    form, errors = inbound_check(data, idempotency_key=key)
    if errors:
        return _error(400, "Some fields are not right.", errors)
    return company, key, form.cleaned_data


def inbound_check(data: dict, *, idempotency_key: str) -> tuple[InboundForm, dict]:
    """The body's fields and the Idempotency-Key checked: the form and the errors by field
    (none: ``form.cleaned_data`` is what ``inbound_receive`` takes). The API's inbound
    endpoint checks with it too."""
    # (named before nulls are dropped: a misspelt field is unknown, whatever its value)
    unknown = sorted(set(data) - set(InboundForm.base_fields))
    # null is a field not given (the required ones say so), as most senders mean it.
    data = {key: value for key, value in data.items() if value is not None}
    # JSON may spell a lone surrogate ("\ud800"): Python keeps it, no database can store it.
    unstorable = {
        key
        for key, value in data.items()
        if key in InboundForm.base_fields and isinstance(value, str) and not _is_utf8(value)
    }
    form = InboundForm(
        {k: v for k, v in data.items() if isinstance(v, str | int | float) and k not in unstorable}
    )
    errors = {}
    if not form.is_valid():
        errors |= {field: list(messages) for field, messages in form.errors.items()}
    for key, value in data.items():
        if key in InboundForm.base_fields and not isinstance(value, str | int | float):
            errors[key] = ["Must be a string."]
    for key in unstorable:
        errors[key] = [UNSTORABLE_TEXT]
    if unknown:
        errors["__all__"] = [f"Unknown fields: {', '.join(unknown)}."]
    if len(idempotency_key) > 255:
        errors["Idempotency-Key"] = ["At most 255 characters."]
    elif not idempotency_key.isprintable():
        # A NUL byte would reach the database (PostgreSQL refuses it in text).
        errors["Idempotency-Key"] = ["Only printable characters (no NUL or control characters)."]
    return form, errors
