"""Scopes: every GET needs ``read``; a write needs the scope its view names (``write`` unless
the view says ``routing``). A key sees only its own company: the views' querysets start from
``request.auth.company``."""

from rest_framework import permissions

from .models import Scope


class HasScope(permissions.BasePermission):
    message = "This API key lacks the scope this request needs."

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if key is None:
            return False
        needed = required_scope(request, view)
        self.message = f"This API key lacks the “{needed}” scope this request needs."
        return needed in key.scopes


def required_scope(request, view) -> str:
    if request.method in permissions.SAFE_METHODS:
        return Scope.READ
    per_method = getattr(view, "scopes", {})
    return per_method.get(request.method, getattr(view, "write_scope", Scope.WRITE))
