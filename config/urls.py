from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from agents import views as agent_views
from agents.forms import LoginForm
from desk import urls as desk_urls
from desk import workload
from routing import webhook


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico whatever the page links: send them to the static file
    (its hashed name under the manifest storage, read when asked, not at import)."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("", agent_views.landing, name="landing"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", agent_views.PasswordChange.as_view(), name="password_change"),
    path("company/", agent_views.switch_company, name="switch_company"),
    path("workload/", workload.workload, name="workload"),
    path("availability/", include("agents.availability.urls")),
    path("api/inbound/", webhook.inbound, name="inbound"),
    path("api/v1/", include("api.urls")),
    path("lead-center/", include(desk_urls.lead_center_urls)),
    path("leads/", include("leads.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("centers/", include(desk_urls.center_urls)),
    path("admin/", admin.site.urls),
]
