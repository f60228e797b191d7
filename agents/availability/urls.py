"""The agent's own availability page (docs/availability.md)."""

from django.urls import path

from . import views

app_name = "availability"
urlpatterns = [
    path("", views.availability_page, name="page"),
    path("absences/<int:pk>/end/", views.absence_end, name="absence_end"),
]
