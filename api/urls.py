"""``/api/v1/``: the schema, its docs pages and every resource (one module each under
``api/resources/``)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

from .docs import RedocDocs, SwaggerDocs
from .resources import (
    agents,
    campaigns,
    centers,
    contact_lists,
    contacts,
    distributions,
    inbound,
    leads,
    routing,
)

public = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(**public), name="api-schema"),
    # Swagger UI and Redoc, offline and under a strict policy of their own (api/docs.py).
    path("docs/", SwaggerDocs.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", RedocDocs.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include(contacts.urlpatterns)),
    path("", include(inbound.urlpatterns)),
    path("", include(agents.urlpatterns)),
    path("", include(routing.urlpatterns)),
    path("", include(distributions.urlpatterns)),
    path("", include(centers.urlpatterns)),
    path("", include(contact_lists.urlpatterns)),
    path("", include(campaigns.urlpatterns)),
    path("", include(leads.urlpatterns)),
]
