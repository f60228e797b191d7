"""Errors as RFC 9457 problem details (``application/problem+json``): ``type``, ``title``,
``status``, ``detail``, and for validation errors ``errors``: field -> messages."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_TYPE = "urn:switchboard:problem:{}"
CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "The request is not right",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported media type",
    422: "Idempotency key reused",
    429: "Too many requests",
    503: "Unavailable",
}


def problem(
    status_code: int,
    detail: str,
    *,
    kind: str = "",
    errors: dict | None = None,
    headers: dict | None = None,
    **extra,
) -> Response:
    body = {
        "type": PROBLEM_TYPE.format(kind) if kind else "about:blank",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = Response(body, status=status_code, headers=headers)
    response.content_type = CONTENT_TYPE
    return response


def field_errors(detail) -> dict[str, list[str]]:
    """DRF's or Django's nested errors as one flat map of field -> messages."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for field, value in detail.items():
            name = "non_field_errors" if field in ("__all__", None) else str(field)
            if isinstance(value, dict):
                for sub, messages in field_errors(value).items():
                    # A list's errors come keyed by index ({1: {"agent": [...]}}): items[1].agent
                    head, dot, rest = sub.partition(".")
                    key = f"{name}[{head}]{dot}{rest}" if head.isdigit() else f"{name}.{sub}"
                    flat[key] = messages
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for index, item in enumerate(value):
                    for sub, messages in field_errors(item).items():
                        flat[f"{name}[{index}].{sub}"] = messages
            else:
                flat[name] = [str(m) for m in (value if isinstance(value, list) else [value])]
        return flat
    if isinstance(detail, list):
        return {"non_field_errors": [str(m) for m in detail]}
    return {"non_field_errors": [str(detail)]}


def validation_problem(errors: dict[str, list[str]]) -> Response:
    first = next(iter(errors.values()), ["The request is not right."])[0]
    return problem(400, first, kind="validation", errors=errors)


def too_big_problem() -> Response:
    """413 for a body past ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django refuses to read it)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = f"{limit:,} bytes" + (f" ({limit / 1_048_576:.1f} MB)" if limit >= 1_048_576 else "")
    response = problem(
        413,
        f"The request body is too large: at most {size}.",
        kind="too-large",
        limit=limit,
    )
    response["Connection"] = "close"  # the body was not read
    return response


def problem_exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return too_big_problem()
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return validation_problem(field_errors(detail))
    if isinstance(exc, Http404):
        return problem(404, "No such object in this company.", kind="not-found")
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        return validation_problem(field_errors(exc.detail))
    response = exception_handler(exc, context)
    if response is None:
        return None  # a 500, logged by Django
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    if isinstance(detail, dict | list):
        detail = "; ".join(m for ms in field_errors(detail).values() for m in ms)
    headers = {k: v for k, v in response.items() if k in ("Retry-After", "WWW-Authenticate")}
    if type(exc) is exceptions.Throttled:  # the key's rate limit (api/throttling.py)
        detail = (
            "Too many requests with this API key: try again in "
            f"{exc.wait and int(exc.wait + 0.999) or 1} seconds."
        )
    kind = {
        status.HTTP_400_BAD_REQUEST: "bad-request",
        status.HTTP_401_UNAUTHORIZED: "not-authenticated",
        status.HTTP_403_FORBIDDEN: "forbidden",
        status.HTTP_404_NOT_FOUND: "not-found",
        status.HTTP_429_TOO_MANY_REQUESTS: "rate-limited",
    }.get(response.status_code, "")
    return problem(response.status_code, str(detail), kind=kind, headers=headers)
