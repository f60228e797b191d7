from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agents import views as agent_views
from agents.forms import LoginForm
from contacts import api as contacts_api
from contacts import views as contacts_views

urlpatterns = [
    path("", agent_views.landing, name="landing"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("company/", agent_views.switch_company, name="switch_company"),
    path("workload/", contacts_views.workload, name="workload"),
    path("api/inbound/", contacts_api.inbound, name="inbound"),
    path("lead-center/", include("contacts.urls")),
    path("leads/", include("leads.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("centers/", include("agents.centers.urls")),
    path("admin/", admin.site.urls),
]
