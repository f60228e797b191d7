from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

from agents.paginator import EstimatedCountPaginator
from agents.permissions import CompanyScopedAdmin, ReadOnlyCompanyScopedAdmin, owners_in_scope

from . import why
from .models import (
    DeadlineEmail,
    Decision,
    GroupMember,
    Method,
    ReassignmentGroup,
    Round,
    RoutingRule,
    RuleMember,
)
from .permissions import can_manage_routing
from .selectors import fairness, group_now, group_simulate, usable_default


class RoutingPermissionMixin:
    """Groups and rules are edited only with *Contact Routing Rule Management*; without it
    they are read-only (to those who may view them) or not shown at all."""

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Only what the form edits: the rotation is the engine's, stored under the group's
        # lock by rounds and handovers; a full save would write back what this page read.
        obj.save(update_fields=[f for f in form.changed_data if f in form.base_fields])

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Default assignees must be able to own contacts.
        if db_field.name == "default_assignee":
            kwargs["queryset"] = owners_in_scope(request)
            return admin.ModelAdmin.formfield_for_foreignkey(self, db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request, *args):
        return can_manage_routing(request.user)

    def has_change_permission(self, request, obj=None):
        return can_manage_routing(request.user)

    def has_delete_permission(self, request, obj=None):
        return can_manage_routing(request.user)

    def has_view_permission(self, request, obj=None):
        return can_manage_routing(request.user) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return can_manage_routing(request.user) or super().has_module_permission(request)


class MemberInline(RoutingPermissionMixin, admin.TabularInline):
    extra = 1
    fields = ["agent", "added"]
    readonly_fields = ["added"]
    autocomplete_fields = ["agent"]

    @admin.display(description="added at")
    def added(self, obj):
        # The empty extra row's instance carries the field's default (now): show nothing.
        # A callable's datetime is shown as str() by the admin: format it in the company's
        # time zone (activated by the middleware), as the other admin times are.
        return date_format(localtime(obj.added_at), "Y-m-d H:i") if obj.pk else ""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agent":
            kwargs["queryset"] = owners_in_scope(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class GroupMemberInline(MemberInline):
    model = GroupMember
    verbose_name = "assignee"
    verbose_name_plural = "assignees (joining mid-round takes part from the next round)"


class RuleMemberInline(MemberInline):
    model = RuleMember
    verbose_name = "assignee"
    verbose_name_plural = "assignees"


DISTRIBUTION_FIELDS = [
    "name",
    "method",
    "default_assignee",
    "claim_window_minutes",
    "skip_unavailable",
]


# A group's own field beside the distribution's: repeated missed response deadlines hand a
# contact to the one group of the company marked so (routing/deadlines.py).
GROUP_FIELDS = [*DISTRIBUTION_FIELDS, "takes_missed_deadlines"]


class GroupForm(forms.ModelForm):
    scoped_company = None  # set by the admin for users who work in one company

    class Meta:
        model = ReassignmentGroup
        fields = ["company", *GROUP_FIELDS]

    def clean(self):
        data = super().clean()
        company = self.scoped_company or data.get("company")
        name = (data.get("name") or "").strip()
        taken = ReassignmentGroup.objects.filter(company=company, name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if company is not None and name and taken.exists():
            self.add_error("name", "Another reassignment group of this company has this name.")
        if company is not None and data.get("takes_missed_deadlines"):
            # The constraint allows one per company; the form does not carry the company for
            # most users, so the check is made here, naming the group that has it.
            other = ReassignmentGroup.objects.filter(company=company, takes_missed_deadlines=True)
            if self.instance.pk:
                other = other.exclude(pk=self.instance.pk)
            other = other.first()
            if other is not None:
                self.add_error(
                    "takes_missed_deadlines",
                    f"Group “{other}” already takes contacts after missed deadlines; "
                    "untick it there first (one group per company).",
                )
        return data


@admin.register(ReassignmentGroup)
class ReassignmentGroupAdmin(RoutingPermissionMixin, CompanyScopedAdmin):
    form = GroupForm
    list_display = [
        "name",
        "method",
        "default_assignee",
        "member_count",
        "takes_missed_deadlines",
        "reports",
    ]
    list_select_related = ["default_assignee", "company"]
    search_fields = ["name"]
    inlines = [GroupMemberInline]

    def get_fields(self, request, obj=None):
        return (["company"] if request.user.is_superuser else []) + GROUP_FIELDS

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not request.user.is_superuser:
            form = type(form.__name__, (form,), {"scoped_company": request.company})
        return form

    @admin.display(description="assignees")
    def member_count(self, obj: ReassignmentGroup) -> int:
        return obj.members.count()

    @admin.display(description="")
    def reports(self, obj: ReassignmentGroup) -> str:
        url = reverse("admin:routing_reassignmentgroup_fairness", args=[obj.pk])
        return format_html('<a href="{}">Fairness &amp; simulate</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:pk>/fairness/",
                self.admin_site.admin_view(self.fairness_view),
                name="routing_reassignmentgroup_fairness",
            ),
            *super().get_urls(),
        ]

    def fairness_view(self, request, pk: int):
        group = self.get_queryset(request).filter(pk=pk).select_related("company").first()
        if group is None or not self.has_view_permission(request, group):
            raise PermissionDenied
        try:
            days = max(1, min(int(request.GET.get("days", 30)), 365))
        except ValueError:
            days = 30
        try:
            count = max(1, min(int(request.GET.get("simulate", 10)), 100))
        except ValueError:
            count = 10
        until = timezone.now()
        report = fairness(group=group, since=until - timedelta(days=days), until=until)
        # Members skipped for their presence now: why one name can fill the simulation.
        now = group_now(group=group)
        skipped = now.skipped
        # First to claim offers each contact to everyone at once: who is offered, not a list
        # of the same first name ten times.
        claim = group.method == Method.FIRST_TO_CLAIM
        return TemplateResponse(
            request,
            "admin/routing/reassignmentgroup/fairness.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Fairness of {group}",
                "opts": self.model._meta,
                "group": group,
                "days": days,
                "count": count,
                "report": report,
                "first_to_claim": claim,
                "offered_now": now.reachable if claim else [],
                "members": now.members,
                "default_assignee": usable_default(group) if claim else None,
                "upcoming": [] if claim else group_simulate(group=group, count=count),
                "skipped_now": skipped,
                "upcoming_all_available": (
                    group_simulate(group=group, count=count, everyone_available=True)
                    if skipped and not claim
                    else None
                ),
            },
        )


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = [
            "company",
            "name",
            "position",
            "paused",
            "sources",
            "channels",
            "tag",
            "has_phone",
            "has_email",
            "active_from",
            "active_until",
            *DISTRIBUTION_FIELDS[1:],
        ]

    def clean(self):
        data = super().clean()
        if bool(data.get("active_from")) != bool(data.get("active_until")):
            raise forms.ValidationError(
                "Give both ends of the active hours (from and until), or neither."
            )
        if data.get("active_from") and data.get("active_from") == data.get("active_until"):
            self.add_error(
                "active_until",
                "The active hours start and end at the same time: leave both "
                "empty for a rule that is always active.",
            )
        channels = {c.strip() for c in (data.get("channels") or "").split(",") if c.strip()}
        unknown = channels - {"text", "form", "call", "chat"}
        if unknown:
            self.add_error("channels", f"Unknown channel(s): {', '.join(sorted(unknown))}.")
        return data


@admin.register(RoutingRule)
class RoutingRuleAdmin(RoutingPermissionMixin, CompanyScopedAdmin):
    """New contacts: the first active rule (by position) that matches routes them. No rule
    matched: the contact stays without a primary agent and its texts show in Active."""

    form = RoutingRuleForm
    list_display = ["position", "name", "paused", "method", "conditions", "default_assignee"]
    list_display_links = ["name"]
    list_editable = ["position", "paused"]
    list_select_related = ["default_assignee", "company"]
    ordering = ["position", "pk"]
    fieldsets = [
        (None, {"fields": ["company", "name", "position", "paused"]}),
        (
            "Conditions (all must hold; empty = any)",
            {
                "fields": [
                    "sources",
                    "channels",
                    "tag",
                    "has_phone",
                    "has_email",
                    ("active_from", "active_until"),
                ]
            },
        ),
        ("Distribution", {"fields": DISTRIBUTION_FIELDS[1:]}),
    ]
    inlines = [RuleMemberInline]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        first = dict(fieldsets[0][1])
        first["fields"] = [f for f in first["fields"] if f != "company"]
        return [(fieldsets[0][0], first), *fieldsets[1:]]

    @admin.display(description="conditions")
    def conditions(self, obj: RoutingRule) -> str:
        parts = []
        if obj.sources:
            parts.append(f"source in {obj.sources}")
        if obj.channels:
            parts.append(f"channel in {obj.channels}")
        if obj.tag:
            parts.append(f"tag {obj.tag}")
        if obj.has_phone:
            parts.append(f"has phone: {obj.has_phone}")
        if obj.has_email:
            parts.append(f"has email: {obj.has_email}")
        if obj.active_from and obj.active_until:
            parts.append(f"{obj.active_from:%H:%M}–{obj.active_until:%H:%M}")
        return "; ".join(parts) or "any new contact"


@admin.register(Round)
class RoundAdmin(ReadOnlyCompanyScopedAdmin):
    list_display = [
        "started_at",
        "contact",
        "source",
        "method",
        "status",
        "assigned_to",
        "deadline_at",
    ]
    list_filter = ["status", "method"]
    list_select_related = ["contact", "group", "rule", "assigned_to", "company"]
    raw_id_fields = ["contact"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    @admin.display(description="through")
    def source(self, obj: Round) -> str:
        return obj.source_name


@admin.register(Decision)
class DecisionAdmin(ReadOnlyCompanyScopedAdmin):
    """The why log: who could have had the contact, who was passed over and why."""

    list_display = ["created_at", "contact", "method", "chosen", "reason"]
    list_filter = ["method"]
    list_select_related = ["contact", "chosen", "company"]
    search_fields = ["contact__name", "contact__phone", "reason"]
    raw_id_fields = ["contact", "round"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # The log stores agent ids (routing/why.py): the page names them.
    fields = [
        "company",
        "created_at",
        "contact",
        "round",
        "group",
        "rule",
        "method",
        "candidates_named",
        "passed_over_named",
        "chosen",
        "reason",
    ]
    readonly_fields = ["candidates_named", "passed_over_named"]

    def _shown(self, obj: Decision) -> why.Shown:
        # Both fields of the page read it: named once (one query) per entry shown.
        if not hasattr(obj, "_why_shown"):
            obj._why_shown = why.shown(obj, why.agent_names([obj]))
        return obj._why_shown

    @admin.display(description="candidates")
    def candidates_named(self, obj: Decision) -> str:
        return self._shown(obj).candidates_text

    @admin.display(description="passed over")
    def passed_over_named(self, obj: Decision) -> str:
        return self._shown(obj).passed_over_text


@admin.register(DeadlineEmail)
class DeadlineEmailAdmin(ReadOnlyCompanyScopedAdmin):
    """The response deadline emails (warning, moved to Active, set Away): written by the
    deadline sweep, sent once by the outbox; readable here, never edited."""

    list_display = [
        "assigned_at",
        "kind",
        "agent",
        "interaction",
        "status",
        "sent_at",
        "attempts",
        "last_error",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["agent", "company", "interaction__contact"]
    raw_id_fields = ["interaction"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
