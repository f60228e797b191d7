from django.urls import path

from . import views

app_name = "leads"

urlpatterns = [
    path("report/", views.report, name="report"),
]
