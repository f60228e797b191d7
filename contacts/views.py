from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agents.models import AccessLevel
from agents.permissions import access_level_required


@access_level_required(AccessLevel.AGENT, AccessLevel.SUPERVISOR, AccessLevel.ADMIN)
def lead_center(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "coming_next.html",
        {
            "title": "Lead Center",
            "lead": "Your inbox of texts and forms, the shared Active pool and your contacts "
            "arrive with the primary agents capability.",
        },
    )
