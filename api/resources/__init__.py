"""One module per resource: its serializers, views and ``urlpatterns``. Views are thin: they
validate and call the same services and selectors as the pages."""
