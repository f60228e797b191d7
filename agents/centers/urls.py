from django.urls import path

from . import views

# desk.urls adds the dashboard (it shows the members' load, from contacts) and mounts them.
app_name = "centers"

urlpatterns = [
    path("", views.center_list, name="list"),
    path("my-devices/", views.my_devices, name="my_devices"),
    path("<int:pk>/", views.center_detail, name="detail"),
    path("<int:pk>/add/", views.center_add, name="add"),
    path("<int:pk>/upgrade/<int:agent_pk>/", views.center_upgrade, name="upgrade"),
    path("<int:pk>/members/<int:member_pk>/", views.member_role, name="member_role"),
    path("<int:pk>/coach/", views.center_coach, name="coach"),
    path("<int:pk>/settings/", views.center_settings, name="settings"),
]
