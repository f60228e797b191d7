"""The schema's shared parts, added after generation (``SPECTACULAR_SETTINGS``'s
``POSTPROCESSING_HOOKS``): the problem-details answers every operation can give and the
``Idempotency-Key`` header of every write."""

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Validation errors: field -> messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "title", "status", "detail"],
}

# Status -> when; every operation may answer these.
COMMON = {
    "400": "The request is not right (validation errors in `errors`).",
    "401": "No API key, or one that is not valid.",
    "403": "The key lacks the scope this request needs.",
    "429": "Too many requests with this key (see `Retry-After`).",
}
WRITE_ONLY = {
    "415": "The body is not of the media type this operation reads.",
    "422": "The Idempotency-Key was used before with another request.",
}
WITH_ID = {"404": "No such object in the key's company."}

IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Replays the first answer for the same key and payload; "
    "the same key with another payload gives 422.",
}


def add_problems(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            if "summary" not in operation and operation.get("operationId"):
                # A heading for Swagger UI and Redoc, from the operation's id
                # ("contacts_primary_agent_set" -> "Contacts: primary agent set"): the
                # descriptions are shared by a path's methods.
                resource, _, action = operation["operationId"].partition("_")
                resource = resource.replace("-", " ").capitalize()
                operation["summary"] = (
                    f"{resource}: {action.replace('_', ' ')}" if action else resource
                )
            responses = operation.setdefault("responses", {})
            wanted = dict(COMMON)
            if method != "get":
                wanted |= WRITE_ONLY
                params = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in params):
                    params.append(IDEMPOTENCY_PARAMETER)
            if "{" in path:
                wanted |= WITH_ID
            for status, description in wanted.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": ref}},
                    },
                )
    return result


def _register_authentication():
    from drf_spectacular.extensions import OpenApiAuthenticationExtension

    class ApiKeyScheme(OpenApiAuthenticationExtension):
        target_class = "api.auth.ApiKeyAuthentication"
        name = "ApiKey"

        def get_security_definition(self, auto_schema):
            return {
                "type": "http",
                "scheme": "bearer",
                "description": "A company API key: `Authorization: Bearer sbk_…`.",
            }

    return ApiKeyScheme


ApiKeyScheme = _register_authentication()
