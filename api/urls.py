"""``/api/v1/``: the schema, its docs pages and every resource (one module each under
``api/resources/``)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from .resources import agents, campaigns, centers, contacts, inbound, leads, routing

public = {"authentication_classes": [], "permission_classes": [AllowAny]}

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(**public), name="api-schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", **public),
        name="api-docs",
    ),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema", **public), name="api-redoc"),
    path("", include(contacts.urlpatterns)),
    path("", include(inbound.urlpatterns)),
    path("", include(agents.urlpatterns)),
    path("", include(routing.urlpatterns)),
    path("", include(centers.urlpatterns)),
    path("", include(campaigns.urlpatterns)),
    path("", include(leads.urlpatterns)),
]
