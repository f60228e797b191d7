"""The agent's own availability page (docs/availability.md)."""

app_name = "availability"
urlpatterns: list = []
