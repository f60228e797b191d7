"""Contacts' read-only admin pages: the timeline, interactions and assignment emails. The
Contact admin itself (its actions go through routing) is ``desk/admin/contacts.py``."""

from django.contrib import admin

from agents.paginator import EstimatedCountPaginator
from agents.permissions import ReadOnlyCompanyScopedAdmin

from .models import AssignmentEmail, Interaction, TimelineEntry


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyCompanyScopedAdmin):
    """History is written by services only: readable here, never edited."""

    list_display = ["created_at", "contact", "kind", "message", "actor", "agent"]
    list_filter = ["kind"]
    list_select_related = ["contact", "actor", "agent", "company"]
    search_fields = ["message", "contact__name", "contact__phone"]
    show_full_result_count = False
    raw_id_fields = ["contact"]


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyCompanyScopedAdmin):
    """Where each inbound text, form, call and chat went, and why. Read-only."""

    list_display = [
        "created_at",
        "channel",
        "contact",
        "routed_to",
        "pool",
        "status",
        "route_reason",
    ]
    list_filter = ["channel", "status", "pool"]
    list_select_related = ["contact", "routed_to", "company"]
    search_fields = ["contact__name", "contact__phone", "body"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(AssignmentEmail)
class AssignmentEmailAdmin(ReadOnlyCompanyScopedAdmin):
    list_display = ["assigned_at", "agent", "status", "sent_at", "attempts", "last_error"]
    list_filter = ["status"]
    list_select_related = ["agent", "company"]
    show_full_result_count = False
