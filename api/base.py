"""What every API view shares: the key as the actor of the changes it makes
(``agents.actors``), the company it sees, ``Idempotency-Key`` on writes."""

from rest_framework import generics, views

from agents.actors import KeyActor, key_reset, key_set

from .idempotency import run_idempotent
from .parsers import JSONParser

WRITES = ("POST", "PUT", "PATCH", "DELETE")


class ApiMixin:
    # The base of every API view (ApiView, ApiGenericView, ApiListView). (A comment, not a
    # docstring: the schema takes each view's docstring as its operation's description.)

    # Writes need ``write`` unless ``scopes`` (method -> scope) says otherwise.
    scopes: dict[str, str] = {}
    # JSON (DRF's, with a nesting too deep for Python a 400): an upload view sets its own.
    parser_classes = [JSONParser]
    _key_token = None

    @property
    def company(self):
        return self.request.auth.company

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.auth
        self._key_token = key_set(KeyActor(id=key.pk, name=key.name, prefix=key.prefix))

    def finalize_response(self, request, response, *args, **kwargs):
        if self._key_token is not None:
            key_reset(self._key_token)
            self._key_token = None
        return super().finalize_response(request, response, *args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        if request.method in WRITES and request.headers.get("Idempotency-Key"):
            return self._dispatch_idempotent(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def _dispatch_idempotent(self, request, *args, **kwargs):
        # Authentication, scopes and the rate limit come first (a refused request keeps no
        # answer); then the write runs once per key.
        handler_name = request.method.lower()
        inner = getattr(self, handler_name, None)
        if inner is None:
            return super().dispatch(request, *args, **kwargs)

        def guarded(req, *a, **kw):
            return run_idempotent(req, self.company, lambda: inner(req, *a, **kw))

        setattr(self, handler_name, guarded)
        return super().dispatch(request, *args, **kwargs)


class ApiView(ApiMixin, views.APIView):
    pass


class ApiGenericView(ApiMixin, generics.GenericAPIView):
    pass


class ApiListView(ApiMixin, generics.ListAPIView):
    """A cursor-paginated list (``get_queryset`` scoped to ``self.company``)."""
