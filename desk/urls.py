from django.urls import path

from . import views

app_name = "contacts"

urlpatterns = [
    path("", views.lead_center, name="lead_center"),
    path("live/", views.lead_center_live, name="lead_center_live"),
    path("presence/", views.set_presence, name="presence"),
    path("ping/", views.ping, name="ping"),
    path("contacts/new/", views.contact_add, name="contact_add"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("offers/<int:pk>/claim/", views.claim, name="claim"),
    path("interactions/<int:pk>/take/", views.take, name="take"),
    path("interactions/<int:pk>/handled/", views.handle, name="handled"),
]
