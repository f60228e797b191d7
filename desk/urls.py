"""The desk's addresses, each under the name it always had: the Lead Center keeps the
``contacts:`` namespace, a center's dashboard joins the ``centers:`` pages of agents.
``config/urls.py`` mounts them."""

from django.urls import path

from agents.centers import urls as agents_center_urls

from . import lead_center, workload

lead_center_urls = (
    [
        path("", lead_center.lead_center, name="lead_center"),
        path("live/", lead_center.lead_center_live, name="lead_center_live"),
        path("presence/", lead_center.set_presence, name="presence"),
        path("ping/", lead_center.ping, name="ping"),
        path("contacts/new/", lead_center.contact_add, name="contact_add"),
        path("contacts/<int:pk>/", lead_center.contact_detail, name="contact"),
        path("contacts/<int:pk>/edit/", lead_center.contact_edit, name="contact_edit"),
        path("contacts/<int:pk>/reassign/", lead_center.reassign, name="reassign"),
        path("offers/<int:pk>/claim/", lead_center.claim, name="claim"),
        path("interactions/<int:pk>/take/", lead_center.take, name="take"),
        path("interactions/<int:pk>/handled/", lead_center.handle, name="handled"),
        # The workload page's live part (the page itself is /workload/, in config/urls.py).
        path("workload/live/", workload.workload_live, name="workload_live"),
    ],
    "contacts",
)

# The center pages of agents, and the dashboard, which shows the members' load (contacts).
center_urls = (
    [
        *agents_center_urls.urlpatterns,
        path("<int:pk>/dashboard/", workload.center_dashboard, name="dashboard"),
        path("<int:pk>/dashboard/live/", workload.center_dashboard_live, name="dashboard_live"),
        # Coaching needs to know who is on a live call (contacts' interactions).
        path("<int:pk>/coach/", workload.center_coach, name="coach"),
    ],
    agents_center_urls.app_name,
)
