"""The Agent admin's availability: the agent's working hours and capacities (a fieldset),
their out of office (an inline), and the counter rebuilt when they gain a capacity
(docs/availability.md). Mixed into ``AgentAdmin`` (desk/admin/agents.py)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction

from agents.availability import hours
from agents.availability.models import Absence
from agents.availability.rules import capacity_of, schedule_of
from agents.models import Agent
from agents.permissions import (
    parse_pk,
)
from agents.selectors import eligible_primary_agents

from ..capacity import item_loads_rebuild


class AbsenceFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        # Two absences of one agent that overlap would make "out of office until" ambiguous.
        kept = [
            f.cleaned_data
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
            and f.cleaned_data.get("starts_at") and f.cleaned_data.get("ends_at")
        ]  # fmt: skip
        kept.sort(key=lambda row: row["starts_at"])
        for earlier, later in zip(kept, kept[1:], strict=False):
            if later["starts_at"] < earlier["ends_at"]:
                raise ValidationError(
                    "Two of these absences overlap: change one so it starts after the other ends."
                )


class AbsenceInline(admin.TabularInline):
    """The agent's out of office in the admin's company: from, until, a note, a cover (one of
    the company's active Lead Center agents, never the agent themselves)."""

    model = Absence
    fk_name = "agent"
    formset = AbsenceFormSet
    fields = ["starts_at", "ends_at", "note", "cover"]
    extra = 0
    verbose_name = "out of office"
    verbose_name_plural = "Out of office"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(company=request.company).select_related("cover")

    # Whoever may change the agent may change their out of office (the access levels grant
    # no permission on absences of their own: agents add theirs on their availability page).
    def _may_change_agent(self, request) -> bool:
        opts = Agent._meta
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def has_view_permission(self, request, obj=None):
        return self._may_change_agent(request)

    def has_add_permission(self, request, obj=None):
        return self._may_change_agent(request)

    def has_change_permission(self, request, obj=None):
        return self._may_change_agent(request)

    def has_delete_permission(self, request, obj=None):
        return self._may_change_agent(request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "cover":
            covers = eligible_primary_agents(company=request.company)
            agent_pk = parse_pk((request.resolver_match.kwargs or {}).get("object_id"))
            if agent_pk is not None:
                covers = covers.exclude(pk=agent_pk)
            kwargs["queryset"] = covers
            kwargs["error_messages"] = {
                "invalid_choice": f"Choose a cover from the list: an active Lead Center agent "
                f"of {request.company}, other than this agent."
            }
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AgentAvailabilityAdminMixin:
    """Working hours (checked as they are typed; blank: the company's), the schedule in force,
    capacities, and the out-of-office inline. A capacity gained rebuilds the agent's counter
    of open items, which is kept only for agents with a capacity."""

    availability_fields = [
        "working_hours",
        "hours_in_force",
        "capacity",
        "text_capacity",
        "form_capacity",
        "chat_capacity",
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.append(("Availability", {"fields": self.availability_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "hours_in_force"]

    def get_inlines(self, request, obj):
        inlines = list(super().get_inlines(request, obj))
        if obj is None or getattr(request, "company", None) is None:
            return inlines
        # A form posted without the out-of-office rows (a script, an older page) leaves the
        # agent's absences as they are rather than failing on the missing rows.
        if request.method == "POST" and "absences-TOTAL_FORMS" not in request.POST:
            return inlines
        return [*inlines, AbsenceInline]

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            # For ``hours_in_force``: a display method is given the object, not the request.
            obj._admin_company = getattr(request, "company", None)
            obj._stored = Agent.objects.get(pk=obj.pk)
        return obj

    @admin.display(description="Hours in force")
    def hours_in_force(self, obj: Agent) -> str:
        company = getattr(obj, "_admin_company", None)
        if company is None:
            return "—"
        stored = getattr(obj, "_stored", obj)
        described = hours.describe(schedule_of(company, stored))
        whose = "their own" if (stored.working_hours or "").strip() else f"{company}'s"
        return f"{described} ({whose}, in {company.time_zone})"

    def save_model(self, request, obj, form, change):
        before = getattr(obj, "_stored", None)
        super().save_model(request, obj, form, change)
        if not change or before is None:
            return
        # A capacity gained, lost or changed (their own or per channel; the company's default
        # applies when theirs is blank): counters are kept only for agents with a capacity,
        # so theirs is built from what they hold now, or dropped, once this save commits, in
        # a transaction of its own (the counter's lock comes last in the lock order; the
        # centers' save still locks the agent).
        changed = [
            company
            for company in obj.companies.all()
            if capacity_of(company, before) != capacity_of(company, obj)
        ]
        if changed:
            transaction.on_commit(
                lambda: [item_loads_rebuild(company=c, agents=[obj]) for c in changed]
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is not Absence:
            return super().save_formset(request, form, formset, change)
        absences = formset.save(commit=False)
        for absence in absences:
            if absence.pk is None:
                absence.company = request.company
                absence.created_by = request.user
            absence.save()
        for absence in formset.deleted_objects:
            absence.delete()
        return None
