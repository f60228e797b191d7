from django.urls import path

from . import views

app_name = "leads"

urlpatterns = [
    path("report/", views.report, name="report"),
    path("leads/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("customers/", views.customers, name="customers"),
    path("customers/<int:pk>/", views.customer, name="customer"),
    path("orders/new/", views.order_entry, name="order_entry"),
    path("orders/", views.orders, name="orders"),
    path("orders/assign/", views.orders_assign, name="orders_assign"),
]
