from django.urls import path

from . import views

# desk.urls adds the dashboard (it shows the members' load, from contacts) and the coach view
# (it needs to know who is on a live call), and mounts them.
app_name = "centers"

urlpatterns = [
    path("", views.center_list, name="list"),
    path("my-devices/", views.my_devices, name="my_devices"),
    path("<int:pk>/", views.center_detail, name="detail"),
    path("<int:pk>/add/", views.center_add, name="add"),
    path("<int:pk>/add/suggest/", views.center_suggest, name="suggest"),
    path("<int:pk>/upgrade/<int:agent_pk>/", views.center_upgrade, name="upgrade"),
    path("<int:pk>/members/<int:member_pk>/", views.member_role, name="member_role"),
    path("<int:pk>/members/<int:member_pk>/ranks/", views.member_ranks, name="member_ranks"),
    path("<int:pk>/settings/", views.center_settings, name="settings"),
]
