"""The API's documentation pages, served offline (drf-spectacular-sidecar) under a strict
Content-Security-Policy of their own: scripts only from files of this site (no inline
script: each page's init script is a file, fetched with ``?script``), styles from files plus
the page's inline styles carrying a nonce made for that one answer (Redoc's styled-components
insert theirs with it), nothing from elsewhere. The API's fast path keeps a policy a view set
(``agents.middleware.API_SECURITY_HEADERS`` are ``setdefault``)."""

import secrets

from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

# Redoc's bundle inserts perfect-scrollbar's stylesheet when it loads, before it can be told
# the nonce: that one text is allowed by its hash (empty first, then filled). A new sidecar
# whose text differs makes tests/api/test_docs_pages.py's browser test report the violation.
REDOC_BUNDLE_STYLES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # the empty <style> element
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",  # perfect-scrollbar's CSS
)


def docs_policy(nonce: str, *, redoc: bool = False) -> str:
    styles = " ".join(["'self'", f"'nonce-{nonce}'", *(REDOC_BUNDLE_STYLES if redoc else ())])
    directives = [
        "default-src 'none'",
        "script-src 'self'",
        f"style-src {styles}",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",  # the schema, and Swagger's "Try it out"
        *(["worker-src blob:"] if redoc else []),  # Redoc's search runs in a worker
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


class DocsPage:
    # The docs are public (the schema is too): no key, no scope, no rate limit per key.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    redoc = False

    def with_policy(self, request, response: Response) -> Response:
        if request.GET.get("script") is None:
            nonce = secrets.token_urlsafe(18)
            response.data["style_nonce"] = nonce
            response["Content-Security-Policy"] = docs_policy(nonce, redoc=self.redoc)
        return response


class SwaggerDocs(DocsPage, SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        return self.with_policy(request, super().get(request, *args, **kwargs))


class RedocDocs(DocsPage, SpectacularRedocView):
    template_name = "api/redoc.html"
    template_name_js = "api/redoc_init.js"
    redoc = True

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        if request.GET.get("script") is not None:
            return Response(
                {"settings": self._dump(spectacular_settings.REDOC_UI_SETTINGS) or "{}"},
                template_name=self.template_name_js,
                content_type="application/javascript",
            )
        response = super().get(request, *args, **kwargs)
        response.data["script_url"] = request.path + "?script="
        return self.with_policy(request, response)
