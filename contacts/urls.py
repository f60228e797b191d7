from django.urls import path

from . import views

app_name = "contacts"

urlpatterns = [
    path("", views.lead_center, name="lead_center"),
]
