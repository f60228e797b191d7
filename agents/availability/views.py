"""The agent's own availability page: their working hours, the company's holidays, their out
of office periods (add, end, delete) and whom they cover for. Every agent of every access
level has one; it shows and changes only their own absences in the current company."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..models import AccessLevel
from ..permissions import access_level_required, parse_pk
from ..zones import local
from . import hours, rules, services
from .forms import AbsenceForm
from .models import Absence, Holiday

every_level = access_level_required(*AccessLevel.values)
HOLIDAYS_SHOWN = 12
ABSENCES_SHOWN = 50


def _hours_text(company, agent) -> tuple[str, bool]:
    """The agent's working hours in words, and whether they are the company's."""
    own = (agent.working_hours or "").strip()
    schedule = rules.schedule_of(company, agent)
    text = "always (no working hours set)" if schedule.always else hours.describe(schedule)
    return text, not own


@every_level
def availability_page(request: HttpRequest) -> HttpResponse:
    agent, company = request.user, request.company
    form = AbsenceForm(request.POST or None, company=company, agent=agent)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.absence_create(
                company=company,
                agent=agent,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                note=data["note"],
                cover=data["cover"],
                created_by=agent,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            cover = data["cover"]
            messages.success(
                request,
                "Out of office added"
                + (f": {cover} covers your texts and forms." if cover else "."),
            )
            return redirect("availability:page")
    now = timezone.now()
    today = local(now, company.time_zone).date()
    hours_text, company_hours = _hours_text(company, agent)
    return render(
        request,
        "availability/page.html",
        {
            "title": "Your availability",
            "form": form,
            "now_status": rules.availability_one(agent, company=company, at=now),
            "hours_text": hours_text,
            "company_hours": company_hours,
            "time_zone": company.time_zone,
            "holidays": list(
                Holiday.objects.filter(company=company, date__gte=today)[:HOLIDAYS_SHOWN]
            ),
            "absences": list(
                Absence.objects.filter(company=company, agent=agent, ends_at__gt=now)
                .select_related("cover")
                .order_by("starts_at", "pk")[:ABSENCES_SHOWN]
            ),
            "covering": list(
                Absence.objects.filter(company=company, cover=agent, ends_at__gt=now)
                .select_related("agent")
                .order_by("starts_at", "pk")[:ABSENCES_SHOWN]
            ),
            "now": now,
        },
    )


@require_POST
@every_level
def absence_end(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        done = services.absence_end(
            company=request.company, agent=request.user, absence_id=parse_pk(str(pk))
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("availability:page")
