from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("<int:pk>/work/", views.work, name="work"),
    path("<int:pk>/work/<int:entry_pk>/", views.entry, name="entry"),
    path("<int:pk>/dashboard/", views.dashboard, name="dashboard"),
    path("<int:pk>/dashboard/live/", views.dashboard_live, name="dashboard_live"),
    *(
        path(f"<int:pk>/{action}/", views.manage, {"action": action}, name=action)
        for action in ("pause", "resume", "recycle")
    ),
    path("<int:pk>/errors/", views.errors, name="errors"),
    path("<int:pk>/errors/owner/", views.change_owner, name="change_owner"),
]
