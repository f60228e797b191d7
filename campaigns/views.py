"""Campaign pages: the agent's preview queue; the dashboard and the error page for
supervisors and admins."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from agents.availability.rules import covering_text
from agents.live import live_token, stream_campaign
from agents.permissions import access_level_required, parse_pk
from agents.phone import format_phone
from contacts.selectors import contact_timeline

from . import selectors
from .forms import DispositionForm, OwnerChangeForm
from .models import Campaign, Record
from .permissions import (
    SUPERVISING,
    WORKING,
    campaign_in_scope,
    can_manage,
    require_manage,
    supervises,
)
from .services import campaign_pause, campaign_recycle, campaign_resume, record_change_owner
from .work import (
    covering_absences,
    entry_call,
    entry_disposition,
    entry_next,
    entry_next_by_id,
    entry_skip,
)

working = access_level_required(*WORKING)
supervising = access_level_required(*SUPERVISING)


@working
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "campaigns/list.html",
        {
            "mine": selectors.agent_campaigns(agent=request.user, company=request.company),
            "covering": selectors.covering_campaigns(cover=request.user, company=request.company),
            "all": selectors.campaigns_for_company(request.company)
            if supervises(request.user)
            else None,
        },
    )


@working
def work(request: HttpRequest, pk: int) -> HttpResponse:
    """The agent's queue: progress and *Next record* (a POST reserves the next one).

    The POST is the agents' hot path: one statement reserves the record, checking that the
    campaign is a running one of the current company; the campaign is loaded (404 if it is
    not the company's) only when nothing was reserved."""
    if request.method == "POST":
        campaign_id = parse_pk(str(pk))
        entry = (
            entry_next_by_id(
                campaign_id=campaign_id, company_id=request.company.pk, agent=request.user
            )
            if campaign_id is not None
            else None
        )
        if entry is not None:
            return redirect("campaigns:entry", pk=campaign_id, entry_pk=entry.pk)
        campaign = campaign_in_scope(request, pk)
        messages.info(request, "Nothing more in your queue for now.")
        return redirect("campaigns:work", pk=campaign.pk)
    campaign = campaign_in_scope(request, pk)
    return render(
        request,
        "campaigns/work.html",
        {
            "campaign": campaign,
            "progress": selectors.agent_progress(campaign=campaign, agent=request.user),
            "covering": selectors.covering_for(
                campaign=campaign, company=request.company, cover=request.user
            ),
        },
    )


@working
def entry(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    campaign = campaign_in_scope(request, pk)
    # The owners this agent covers now, if the campaign lets a cover work their records.
    absences = (
        covering_absences(
            cover=request.user,
            company_id=campaign.company_id,
            at=timezone.now(),
            queue_id=campaign.queue_id,
        )
        if campaign.cover_works_absent_owner
        else {}
    )
    found = selectors.entry_for_agent(
        campaign=campaign, agent=request.user, pk=parse_pk(str(entry_pk)), covering=absences
    )
    if found is None:
        raise Http404("This record is not in your queue.")
    absence = absences.get(found.agent_id) if found.agent_id != request.user.pk else None
    form = DispositionForm(campaign=campaign)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "call":
                entry_call(entry_id=found.pk, agent=request.user)
                return redirect("campaigns:entry", pk=campaign.pk, entry_pk=found.pk)
            if action == "skip":
                entry_skip(entry_id=found.pk, agent=request.user)
                return _next(request, campaign, "Skipped.")
            if action == "disposition":
                form = DispositionForm(request.POST, campaign=campaign)
                if form.is_valid():
                    try:
                        entry_disposition(
                            entry_id=found.pk,
                            agent=request.user,
                            disposition=form.cleaned_data["disposition"],
                            callback_at=form.cleaned_data["callback_at"],
                        )
                    except ValidationError as error:
                        if not hasattr(error, "error_dict"):
                            raise
                        form.add_error(None, error)  # by its field, on the page (200)
                    else:
                        return _next(
                            request,
                            campaign,
                            f"Saved: {form.cleaned_data['disposition']} for "
                            f"{selectors.record_title(found.record)}.",
                            saved=True,
                        )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("campaigns:entry", pk=campaign.pk, entry_pk=found.pk)
    contact = found.record.contact
    return render(
        request,
        "campaigns/entry.html",
        {
            "campaign": campaign,
            "entry": found,
            "cells": selectors.record_cells(found),
            "phone": format_phone(found.record.phone),
            "contact": contact,
            "timeline": contact_timeline(contact=contact)[:10] if contact else [],
            "form": form,
            "covering": covering_text(
                str(absence.agent), absence.ends_at, request.company.time_zone
            )
            if absence
            else "",
            "covering_owner": absence.agent if absence else None,
            # a covered record: the progress of its owner's queue (the one being worked)
            "progress": selectors.agent_progress(
                campaign=campaign, agent=absence.agent if absence else request.user
            ),
            "pending_owner": selectors.pending_owner_changes(campaign)
            .filter(record=found.record)
            .first(),
        },
    )


def _next(request: HttpRequest, campaign: Campaign, note: str, saved: bool = False) -> HttpResponse:
    """Reserve the agent's next record and say what was done (``saved``: as a success)."""
    say = messages.success if saved else messages.info
    following = entry_next(campaign=campaign, agent=request.user)
    if following is None:
        say(request, f"{note} Nothing more in your queue for now.")
        return redirect("campaigns:work", pk=campaign.pk)
    if saved:
        note = f"{note} Next record: {selectors.record_title(following.record)}."
        say(request, note)
    return redirect("campaigns:entry", pk=campaign.pk, entry_pk=following.pk)


@supervising
def dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress per agent; follows the campaign live (``dashboard_live``, the same reads)."""
    campaign = campaign_in_scope(request, pk)
    return render(
        request,
        "campaigns/dashboard.html",
        {
            **_dashboard_live(request, campaign),
            "live_token": live_token(
                user=request.user,
                company_id=request.company.pk,
                streams=[stream_campaign(campaign.pk)],
            ),
        },
    )


@supervising
def dashboard_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The dashboard's live parts (``_dashboard_live.html``), fetched by
    ``static/js/live_parts.js`` when the campaign changed: the same rights and reads
    as the page (its queries but the company picker's)."""
    campaign = campaign_in_scope(request, pk)
    response = render(request, "campaigns/_dashboard_live.html", _dashboard_live(request, campaign))
    response["Cache-Control"] = "no-store"
    return response


def _dashboard_live(request: HttpRequest, campaign: Campaign) -> dict:
    return {
        "campaign": campaign,
        "can_manage": can_manage(request.user, campaign),
        **selectors.dashboard(campaign),
    }


@supervising
@require_POST
def manage(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """The dashboard's Pause, Resume and Recycle: the campaign services, then a message."""
    campaign = campaign_in_scope(request, pk)
    require_manage(request.user, campaign)
    if action == "recycle" and request.POST.get("confirm") != "yes":
        messages.error(
            request,
            "Tick “Start the unfinished lists again” to recycle: nothing was changed.",
        )
        return redirect("campaigns:dashboard", pk=campaign.pk)
    try:
        if action == "pause":
            campaign_pause(campaign=campaign, actor=request.user)
            note = "Paused: no records are handed out until you resume."
        elif action == "resume":
            campaign_resume(campaign=campaign, actor=request.user)
            note = "Resumed: the agents get their next records again."
        elif action == "recycle":
            applied = campaign_recycle(campaign=campaign, actor=request.user)
            note = (
                "Recycled: the unfinished lists start again from the beginning (records "
                "handled before show it and can be skipped)"
                + (f"; {applied} owner change{'s' if applied != 1 else ''} applied." if applied
                   else ".")
            )  # fmt: skip
        else:
            raise Http404("No such action.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, note)
    return redirect("campaigns:dashboard", pk=campaign.pk)


@supervising
def errors(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_in_scope(request, pk)
    return render(
        request,
        "campaigns/errors.html",
        {
            "campaign": campaign,
            "counts": selectors.error_counts(campaign),
            "errors": selectors.error_entries(campaign)[:500],
            "orphaned": selectors.orphaned_callbacks(campaign)[:200],
            "fixed": selectors.fixed_entries(campaign)[:200],
            "pending": selectors.pending_owner_changes(campaign)[:200],
            "form": OwnerChangeForm(),
        },
    )


@supervising
@require_POST
def change_owner(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_in_scope(request, pk)
    form = OwnerChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the record's line and the new owner.")
        return redirect("campaigns:errors", pk=campaign.pk)
    record = (
        Record.objects.of_list(campaign.contact_list_id)
        .filter(line=form.cleaned_data["line"])
        .order_by("-list_import_id")
        .first()
    )
    if record is None:
        messages.error(request, "No record of the list has this line.")
        return redirect("campaigns:errors", pk=campaign.pk)
    try:
        change = record_change_owner(
            campaign=campaign,
            record=record,
            new_value=form.cleaned_data["new_value"],
            actor=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            "Owner changed."
            if change is None
            else "Owner change stored: pending until the campaign is recycled.",
        )
    return redirect("campaigns:errors", pk=campaign.pk)
