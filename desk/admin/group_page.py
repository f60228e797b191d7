"""The page an admin action asks its reassignment group on (``admin/routing/choose_group.html``):
*Re-assign through a group…* of the Contact admin, *Hand over their contacts through a group…*
of the Agent admin."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agents.models import Company
from agents.permissions import action_page_context
from routing.selectors import company_groups


def choose_group_page(
    model_admin, request: HttpRequest, *, company: Company, action: str, title: str, **extra
) -> HttpResponse:
    """The company's groups to pick from, the selection posted back, and "Choose a group."
    once applied without one; ``extra`` goes to the template (what is being moved)."""
    return render(
        request,
        "admin/routing/choose_group.html",
        {
            **action_page_context(model_admin, request, action=action, title=title),
            "groups": company_groups(company=company),
            "error": "Choose a group." if "apply" in request.POST else "",
            **extra,
        },
    )
