"""The Agent admin: the user admin of agents, with what other apps add to an agent's page
(their centers, devices and license; the *Assigned Leads* tab; the handover of their book
through a reassignment group; their working hours, capacity and out of office; the
deactivation page, ``desk/leaving.py``). ``CompanyAdmin`` stays in ``agents/admin.py``."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from agents.availability import hours
from agents.availability.models import Absence
from agents.availability.rules import capacity_of, schedule_of
from agents.centers import selectors as center_selectors
from agents.centers import services as center_services
from agents.centers.admin import AgentLineInline, DeviceInline
from agents.models import AccessLevel, Agent, Presence
from agents.permissions import (
    RefusedSaveMessageMixin,
    agents_in_scope,
    parse_pk,
)
from agents.selectors import LEAD_CENTER_LEVELS, companies_for_user, eligible_primary_agents
from contacts import queue
from contacts.selectors import held_book_count
from leads.models import Lead
from leads.selectors import leads_agents
from routing.handover import agent_book_handover
from routing.permissions import can_grant_routing, can_hand_over_book
from routing.selectors import company_group, company_groups, open_offers

from ..leaving import Plan, agent_deactivate, leaver_holdings
from .group_page import choose_group_page


# --- What the contact centers add: devices, the license, the *Contact centers* checkboxes ---
class AgentCentersAdminMixin(RefusedSaveMessageMixin):
    """For the user admin: devices and license inlines, and the *Contact centers*
    checkboxes (check to add, uncheck to remove; the 100-center limit applies)."""

    centers_inlines = [AgentLineInline, DeviceInline]

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), *self.centers_inlines] if obj else []

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and getattr(request, "company", None) is not None:
            fieldsets.append(("Contact centers", {"fields": ["contact_centers"]}))
        return fieldsets

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None and getattr(request, "company", None) is not None:
            # Active centers only: deactivated ones leave the list (memberships are kept).
            centers = center_selectors.company_centers(company=request.company)
            field = forms.ModelMultipleChoiceField(
                queryset=centers,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                label="Contact centers",
                help_text=f"Check to make them a Contact Center Agent there; uncheck to "
                f"remove them. Centers of {request.company} only; at most 100 in all.",
            )
            base = kwargs.get("form", self.form)
            kwargs["form"] = type("AgentCentersForm", (base,), {"contact_centers": field})
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and "contact_centers" in form.base_fields:
            form.base_fields["contact_centers"].initial = list(
                obj.center_memberships.filter(center__company=request.company).values_list(
                    "center_id", flat=True
                )
            )
        return form

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "contact_centers" in form.cleaned_data:
            center_services.agent_set_centers(
                agent=form.instance,
                centers=form.cleaned_data["contact_centers"],
                company=request.company,
                actor=request.user,
            )


# --- What leads add: the *Assigned Leads* tab ------------------------------------------------
class AgentLeadsAdminMixin:
    """Adds the *Assigned Leads* tab (an object tool of the user's page, see
    templates/admin/agents/agent/change_form.html) for Leads Agent users."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        agent = agents_in_scope(request).filter(pk=parse_pk(str(object_id))).first()
        if agent is not None and agent.access_level == AccessLevel.LEADS_AGENT:
            extra_context["assigned_leads"] = {
                "count": Lead.objects.filter(agent=agent, status=Lead.Status.OPEN).count(),
                "url": reverse("admin:leads_lead_assigned", args=[agent.pk]),
                "add_url": reverse("admin:leads_lead_add") + f"?agent={agent.pk}",
            }
        return super().change_view(request, object_id, form_url, extra_context)


# --- What availability adds: working hours, capacity, out of office --------------------------
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


def _loads_rebuild(*, agent: Agent, companies) -> None:
    for company in companies:
        with transaction.atomic():
            queue.load_recount_interactions(
                company=company,
                agent=agent,
                offers=lambda c=company: open_offers(agent=agent, company=c).count(),
            )


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
        gained = [
            company
            for company in obj.companies.all()
            if capacity_of(company, before).unlimited and not capacity_of(company, obj).unlimited
        ]
        if gained:
            # Counters are kept only for agents with a capacity: build theirs from what they
            # hold now, once this save commits, in a transaction of its own (the counter's
            # lock comes last in the lock order; the centers' save still locks the agent).
            transaction.on_commit(lambda: _loads_rebuild(agent=obj, companies=gained))

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


# --- Deactivation: the page that asks what happens to the agent's work -----------------------
class _CompanyChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if isinstance(obj, Agent):
            return obj.full_name or obj.email
        return f"{obj.name} ({obj.get_method_display().lower()})"


class LeaverForm(forms.Form):
    """One company's choices on the deactivation page (prefix: the company's id)."""

    book_to_group = _CompanyChoice(
        queryset=Agent.objects.none(),
        required=False,
        label="Through a reassignment group",
        empty_label="— No group —",
    )
    book_to_agent = _CompanyChoice(
        queryset=Agent.objects.none(),
        required=False,
        label="Or to one agent",
        empty_label="— No one agent —",
    )
    leads_to = _CompanyChoice(
        queryset=Agent.objects.none(),
        required=False,
        label="Their open leads",
        empty_label="— Unassign them —",
    )

    def __init__(self, *args, company, agent, holdings, **kwargs):
        super().__init__(*args, prefix=str(company.pk), **kwargs)
        self.company, self.holdings = company, holdings
        if holdings.contacts:
            self.fields["book_to_group"].queryset = company_groups(company=company)
            self.fields["book_to_agent"].queryset = eligible_primary_agents(
                company=company
            ).exclude(pk=agent.pk)
        else:
            del self.fields["book_to_group"], self.fields["book_to_agent"]
        if holdings.leads:
            self.fields["leads_to"].queryset = leads_agents(company=company).exclude(pk=agent.pk)
        else:
            del self.fields["leads_to"]

    def plan(self) -> Plan:
        data = self.cleaned_data
        return Plan(
            company=self.company,
            book_to_group=data.get("book_to_group"),
            book_to_agent=data.get("book_to_agent"),
            leads_to=data.get("leads_to"),
        )

    def add_service_error(self, key: str, messages_: list[str]) -> None:
        field = key if key in self.fields else None
        if key == "book" and "book_to_group" in self.fields:
            field = None
        for message in messages_:
            self.add_error(field, message)


class AgentDeactivationAdminMixin:
    """Unchecking *Active* on the change form, or the list's *Deactivate…*, leads to a page
    that says what the agent has (contacts, open items, open leads, campaign records) in each
    of their companies and asks what happens to it; ``desk.leaving.agent_deactivate`` then
    moves it and deactivates them. Nothing else deactivates an agent: the form keeps them
    active when *Active* is unchecked and sends the admin to that page."""

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "<path:object_id>/deactivate/",
                self.admin_site.admin_view(self.deactivate_view),
                name="{}_{}_deactivate".format(*info),
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        before = getattr(obj, "_stored", None)
        if change and before is not None and before.is_active and not obj.is_active:
            obj.is_active = True  # only the page deactivates
            request._sb_deactivate = obj.pk
        super().save_model(request, obj, form, change)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and obj.is_active and "is_active" in form.base_fields:
            form.base_fields["is_active"].help_text = (
                "Unchecking it saves your other changes and asks, on the next page, what "
                "happens to their contacts, open items, leads and campaign records before "
                "they are deactivated."
            )
        return form

    def response_change(self, request, obj):
        if getattr(request, "_sb_deactivate", None) == obj.pk:
            self.message_user(
                request,
                f"Your other changes are saved; {obj} is still active. Say what happens to their "
                "work, then deactivate them here.",
                messages.WARNING,
            )
            return redirect("admin:agents_agent_deactivate", obj.pk)
        return super().response_change(request, obj)

    @admin.action(description="Deactivate…", permissions=["change"])
    def deactivate(self, request, queryset):
        chosen = list(queryset.order_by("pk")[:2])
        if len(chosen) != 1:
            self.message_user(
                request,
                "Choose one agent to deactivate: each one's contacts and leads need their own "
                "choices.",
                messages.WARNING,
            )
            return None
        return redirect("admin:agents_agent_deactivate", chosen[0].pk)

    def _acting_companies(self, request, agent):
        """The agent's companies the user may act in, the current company first; and those
        they may not."""
        theirs = list(agent.companies.order_by("name", "pk"))
        mine = {c.pk for c in companies_for_user(request.user)}
        current = getattr(request, "company", None)
        acting = [c for c in theirs if c.pk in mine]
        acting.sort(key=lambda c: (current is None or c.pk != current.pk, c.name))
        return acting, [c for c in theirs if c.pk not in mine]

    def deactivate_view(self, request, object_id):
        agent = agents_in_scope(request).filter(pk=parse_pk(object_id)).first()
        changelist = reverse("admin:agents_agent_changelist")
        if agent is None:
            self.message_user(request, "No such agent in your company.", messages.WARNING)
            return HttpResponseRedirect(changelist)
        acting, beyond = self._acting_companies(request, agent)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "agent": agent,
            "title": f"Deactivate {agent}" if agent.is_active else f"Finish deactivating {agent}",
            "beyond": beyond,
            "change_url": reverse("admin:agents_agent_change", args=[agent.pk]),
        }
        if beyond and not request.user.is_superuser:
            # is_active is one flag for all their companies: deactivating them here would end
            # their work for a company this admin can't see, leaving its contacts stranded.
            return render(request, "admin/agents/agent/deactivate.html", context)
        if not (self.has_change_permission(request, agent) and can_hand_over_book(request.user)):
            raise PermissionDenied
        parts = []
        for company in acting:
            holdings = leaver_holdings(company=company, agent=agent)
            form = LeaverForm(
                request.POST if request.method == "POST" else None,
                company=company,
                agent=agent,
                holdings=holdings,
            )
            parts.append(form)
        if not agent.is_active and all(f.holdings.nothing for f in parts):
            self.message_user(request, f"{agent} is inactive and has nothing left to hand over.")
            return HttpResponseRedirect(context["change_url"])
        context["parts"] = parts
        if request.method == "POST" and all(f.is_valid() for f in parts):
            plans = [f.plan() for f in parts]
            first = plans[0]
            try:
                report = agent_deactivate(
                    company=first.company,
                    agent=agent,
                    book_to_group=first.book_to_group,
                    book_to_agent=first.book_to_agent,
                    leads_to=first.leads_to,
                    actor=request.user,
                    elsewhere=plans[1:],
                )
            except ValidationError as error:
                by_pk = {str(f.company.pk): f for f in parts}
                if hasattr(error, "error_dict"):
                    for key, errors in error.message_dict.items():
                        pk, _, name = key.partition("-")
                        if pk in by_pk:
                            by_pk[pk].add_service_error(name, errors)
                        else:
                            context.setdefault("errors", []).extend(errors)
                else:
                    context["errors"] = error.messages
            else:
                self._say_report(request, report)
                return HttpResponseRedirect(context["change_url"])
        return render(request, "admin/agents/agent/deactivate.html", context)

    def _say_report(self, request, report):
        agent = report.agent
        self.message_user(
            request, f"{agent} is deactivated: they can no longer log in.", messages.SUCCESS
        )
        several = len(report.companies) > 1
        for part in report.companies:
            lines = part.lines()
            if lines:
                where = f"In {part.company}: " if several else ""
                self.message_user(request, where + "; ".join(lines) + ".", messages.SUCCESS)
        for left in report.stranded:
            self.message_user(
                request,
                f"{agent} still has, in {left.company}: {left.contacts} contact(s), "
                f"{left.items} open item(s), {left.leads} open lead(s), {left.records} "
                "campaign record(s) (changed meanwhile, or a move failed). Hand them over on "
                f"{reverse('admin:agents_agent_deactivate', args=[agent.pk])}.",
                messages.WARNING,
            )


# --- The Agent admin ----------------------------------------------------------------------
class _EmailCleaningMixin:
    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        taken = Agent.objects.filter(email__iexact=email)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("An agent with this email address already exists.")
        return email


class AgentCreationForm(_EmailCleaningMixin, UserCreationForm):
    class Meta:
        model = Agent
        fields = ("email", "full_name", "access_level")


class AgentChangeForm(_EmailCleaningMixin, UserChangeForm):
    class Meta:
        model = Agent
        fields = "__all__"


class AgentUserAdmin(UserAdmin):
    """The user admin's own fieldsets; the mixins of AgentAdmin add theirs on top (their
    ``get_fieldsets`` calls reach this one through ``super()``)."""

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            fieldsets = list(self.add_fieldsets)
            if request.user.is_superuser:
                fieldsets.append(("Companies", {"fields": ("companies",)}))
            return fieldsets
        fieldsets = [
            (None, {"fields": ("email", "password")}),
            (
                "Profile",
                {"fields": ("full_name", "access_level", "is_active", "can_manage_routing")},
            ),
            ("Presence", {"fields": ("presence_now", "last_seen")}),
            ("Dates", {"fields": ("last_login", "date_joined")}),
        ]
        if request.user.is_superuser:
            fieldsets.insert(2, ("Companies and rights", {"fields": ("companies", "is_superuser")}))
        return fieldsets


@admin.register(Agent)
class AgentAdmin(
    AgentDeactivationAdminMixin,
    AgentAvailabilityAdminMixin,
    AgentLeadsAdminMixin,
    AgentCentersAdminMixin,
    AgentUserAdmin,
):
    form = AgentChangeForm
    add_form = AgentCreationForm
    list_display = [
        "email",
        "full_name",
        "access_level",
        "presence_now",
        "last_seen",
        "is_active",
    ]
    list_filter = ["access_level", "presence", "is_active"]
    search_fields = ["email", "full_name"]
    ordering = ["full_name", "email"]
    readonly_fields = ["presence_now", "last_seen", "date_joined", "last_login"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Only those who hold Contact Routing Rule Management may hand it out.
        if not can_grant_routing(request.user):
            readonly.append("can_manage_routing")
        return readonly

    filter_horizontal = ["companies", "groups", "user_permissions"]
    actions = ["hand_over_book", "deactivate"]

    @admin.action(description="Hand over their contacts through a group…", permissions=["view"])
    def hand_over_book(self, request, queryset):
        if not can_hand_over_book(request.user):
            raise PermissionDenied
        company = request.company
        group = company_group(company=company, pk=parse_pk(request.POST.get("group")))
        if "apply" in request.POST and group is not None:
            for leaver in queryset:
                try:
                    moved = agent_book_handover(
                        company=company, agent=leaver, group=group, actor=request.user
                    )
                except ValidationError as error:
                    self.message_user(
                        request, f"{leaver}: {' '.join(error.messages)}", messages.ERROR
                    )
                    continue
                self.message_user(
                    request,
                    f"{moved} contact(s) of {leaver} sent through {group}.",
                    messages.SUCCESS,
                )
                held = held_book_count(company=company, agent=leaver)
                if held:
                    self.message_user(
                        request,
                        f"{held} contact(s) of {leaver} were left out: Re-Assign in progress. "
                        "Hand them over again once those re-assignments finish.",
                        messages.WARNING,
                    )
            return None
        return choose_group_page(
            self,
            request,
            company=company,
            action="hand_over_book",
            title="Hand over contacts through a group",
            agents=list(queryset[:20]),
        )

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "access_level", "password1", "password2"),
            },
        ),
    )

    def get_queryset(self, request):
        return agents_in_scope(request, super().get_queryset(request))

    def _shared_beyond_reach(self, request, obj) -> bool:
        """True when a company admin would reach an agent who also works for a company they
        don't administer: their password, email and access level are that company's too."""
        if request.user.is_superuser or obj is None:
            return False
        mine = companies_for_user(request.user).values("pk")
        return obj.companies.exclude(pk__in=mine).exists()

    def has_change_permission(self, request, obj=None):
        if self._shared_beyond_reach(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self._shared_beyond_reach(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def lookup_allowed(self, lookup, value, request=None):
        # Filtering by company would tell a company admin who else an agent works for.
        if lookup.startswith("companies") and not (request and request.user.is_superuser):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        # Autocompletes for owners (primary agent, group members, default assignees) offer
        # only who may own contacts.
        if request.GET.get("field_name") in ("primary_agent", "agent", "default_assignee"):
            queryset = queryset.filter(is_active=True, access_level__in=LEAD_CENTER_LEVELS)
        return queryset, distinct

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser and request.company is not None:
            obj.companies.add(request.company)

    @admin.display(description="Presence", ordering="presence")
    def presence_now(self, obj: Agent) -> str:
        effective = obj.effective_presence
        label = Presence(effective).label
        if effective != obj.presence:
            label = f"{label} (set {obj.get_presence_display()}, not seen lately)"
        # The colour is in static/css/admin.css: no inline style under the CSP.
        return format_html('<span class="presence-dot presence-{}">●</span> {}', effective, label)

    @admin.display(description="Last seen", ordering="last_seen_at")
    def last_seen(self, obj: Agent) -> str:
        if obj.last_seen_at is None:
            return "never"
        return f"{timesince(obj.last_seen_at, timezone.now())} ago"
