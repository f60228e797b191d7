"""The Agent admin's deactivation page: unchecking *Active* or *Deactivate…* asks first where
the book, the open items, the open leads and the campaign records go (``desk/leaving.py``).
Mixed into ``AgentAdmin`` (desk/admin/agents.py)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse

from agents.models import Agent
from agents.permissions import (
    agents_in_scope,
    parse_pk,
)
from agents.selectors import companies_for_user, eligible_primary_agents
from leads.selectors import leads_agents
from routing.permissions import can_hand_over_book
from routing.selectors import company_groups

from ..leaving import Plan, agent_deactivate_plans, leaver_holdings


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
            try:
                report = agent_deactivate_plans(agent=agent, plans=plans, actor=request.user)
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
