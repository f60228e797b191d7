from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agents.models import AccessLevel
from agents.permissions import access_level_required


@access_level_required(AccessLevel.LEADS_AGENT, AccessLevel.ADMIN)
def report(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "coming_next.html",
        {
            "title": "Leads Agent Report",
            "lead": "Your assigned leads and the latest history across your customers arrive "
            "with the leads capability.",
        },
    )
