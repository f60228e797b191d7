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


def _cover_away_warning(*, company, agent, cover, starts_at, ends_at) -> str:
    """ "" unless the cover is out of office at some point of the new absence: then what the
    agent should know (their texts and forms go to Active while both are out)."""
    theirs = list(
        Absence.objects.filter(
            company=company, agent=cover, starts_at__lt=ends_at, ends_at__gt=starts_at
        ).order_by("starts_at", "pk")[:3]
    )
    if not theirs:
        return ""
    zone = company.time_zone
    spans = ", ".join(
        f"{local(a.starts_at, zone):%a %d %b %H:%M} – {local(a.ends_at, zone):%a %d %b %H:%M}"
        for a in theirs
    )
    return (
        f"{cover} is out of office too during part of it ({spans}): your texts and forms go "
        "to Active then. Choose another cover if you want them covered."
    )


def _status_text(own, cover) -> str:
    """Where the agent's texts and forms go now, in words: to them, to their cover if the
    cover can take them now (routing asks the same rules), else to Active, saying why."""
    if own.available:
        return ""
    text = own.label
    if own.status not in (rules.OUT_OF_OFFICE, rules.OFF_HOURS):
        return f"{text}."
    if own.status == rules.OUT_OF_OFFICE and own.cover_id is not None:
        if cover is not None and cover.available:
            return f"{text}: your texts and forms go to {own.cover_name}."
        state = cover.label if cover is not None and cover.label else "not available"
        state = state[:1].lower() + state[1:]
        too = " too" if cover is not None and cover.status == own.status else ""
        return (
            f"{text}: your texts and forms go to Active: your cover, {own.cover_name}, is "
            f"{state}{too}."
        )
    return f"{text}: your texts and forms go to Active."


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
            warning = cover and _cover_away_warning(
                company=company,
                agent=agent,
                cover=cover,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
            )
            if warning:
                messages.warning(request, warning)
            return redirect("availability:page")
    now = timezone.now()
    today = local(now, company.time_zone).date()
    hours_text, company_hours = _hours_text(company, agent)
    absences = list(
        Absence.objects.filter(company=company, agent=agent, ends_at__gt=now)
        .select_related("cover")
        .order_by("starts_at", "pk")[:ABSENCES_SHOWN]
    )
    # The covers of the absences under way are asked with the agent, in the same statements:
    # the page says where texts go now only as routing would send them.
    covers = [a.cover for a in absences if a.starts_at <= now and a.cover is not None]
    now_of = rules.availability_of(company=company, agents=[agent, *covers], at=now)
    own = now_of[agent.pk]
    cover_now = now_of.get(own.cover_id) if own.cover_id is not None else None
    return render(
        request,
        "availability/page.html",
        {
            "title": "Your availability",
            "form": form,
            "now_status": own,
            "status_text": _status_text(own, cover_now),
            "hours_text": hours_text,
            "company_hours": company_hours,
            "time_zone": company.time_zone,
            "holidays": list(
                Holiday.objects.filter(company=company, date__gte=today)[:HOLIDAYS_SHOWN]
            ),
            "absences": absences,
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
