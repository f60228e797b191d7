"""Pages of how much each agent carries: the workload page (admins and supervisors: contacts,
campaign queues and leads side by side) and a contact center's dashboard (its members with
their load)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from agents import zones
from agents.access import is_company_admin
from agents.centers import selectors as center_selectors
from agents.centers import services as center_services
from agents.centers.forms import AlertsForm
from agents.centers.models import CenterAlertState, CoachingRequest
from agents.centers.permissions import can, can_coach, center_for_request, require, require_coach
from agents.choices import AccessLevel, Presence
from agents.live import live_changed, live_token, stream_center, stream_workload
from agents.permissions import STAFF_LEVELS, access_level_required, parse_pk
from agents.selectors import LEAD_CENTER_LEVELS
from campaigns.selectors import pending_records_by_agent
from contacts import selectors
from contacts.queue import capacity_rows, queue_stats
from leads.selectors import leads_agents, open_leads_by_agent


@access_level_required(*STAFF_LEVELS)
def workload(request: HttpRequest) -> HttpResponse:
    """Each person's load, for admins and supervisors. The page follows the company's
    workload live (``workload_live``, the same reads)."""
    return render(
        request,
        "contacts/workload.html",
        {
            **_workload_live(request),
            "live_token": live_token(
                user=request.user,
                company_id=request.company.pk,
                streams=[stream_workload(request.company.pk)],
            ),
        },
    )


@access_level_required(*STAFF_LEVELS)
def workload_live(request: HttpRequest) -> HttpResponse:
    """The workload page's live part (``_workload_live.html``) for the same ``sort`` and
    ``period``, fetched by ``static/js/live_parts.js`` when the company's workload changed.
    The same rights and reads as the page (its queries but the company picker's)."""
    response = render(request, "contacts/_workload_live.html", _workload_live(request))
    response["Cache-Control"] = "no-store"
    return response


def _workload_live(request: HttpRequest) -> dict:
    """What the workload page's live part shows: the page and its fragment read through
    this one function."""
    sort = request.GET.get("sort", "name")
    period = request.GET.get("period", "today")
    period = period if period in selectors.WORKLOAD_PERIODS else "today"
    rows = selectors.workload(company=request.company, sort=sort, period=period)
    totals = selectors.workload_totals(company=request.company, rows=rows)
    _availability(request.company, rows)
    queue = queue_stats(company=request.company)
    totals["full"] = sum(1 for r in rows if r.load.full)
    # Available means work reaches them: not someone out of office or off hours.
    totals["available"] = sum(
        1 for r in rows if r.presence == Presence.AVAILABLE and not r.avail_note
    )
    # Records still to work in each agent's campaign queues (campaigns app).
    pending_campaign = pending_records_by_agent(request.company)
    for row in rows:
        row.campaign_pending = pending_campaign.get(row.agent.pk, 0)
    totals["campaign_pending"] = sum(pending_campaign.values())
    # Bars as percentages of the longest bar (or of the average, if every bar is shorter).
    top = max([r.primary for r in rows] + [totals["average"]], default=0)
    # The average is the agents' (workload_totals): admins and supervisors are listed, as
    # they may own contacts, but are not compared with it ("—", never "−100%").
    in_average = [r for r in rows if r.agent.access_level == AccessLevel.AGENT] or rows
    compared = {r.agent.pk for r in in_average}
    chart = [
        {
            "row": r,
            "width": round(100 * r.primary / top, 1) if top else 0,
            "share": (
                round(100 * (r.share - 1))
                if r.share is not None and r.agent.pk in compared
                else None
            ),
        }
        for r in rows
    ]
    return {
        "rows": rows,
        "sort": sort,
        "period": period,
        "periods": [(key, label) for key, (label, _) in selectors.WORKLOAD_PERIODS.items()],
        "period_label": selectors.WORKLOAD_PERIODS[period][0],
        "overload_percent": round(100 * selectors.OVERLOAD_ABOVE_AVERAGE),
        "totals": totals,
        "spread": totals["spread"],
        "chart": chart,
        "overloaded": [item for item in chart if item["row"].overloaded],
        "average_x": round(100 * totals["average"] / top, 1) if top else 0,
        "is_admin": is_company_admin(request.user),
        "leads_load": _leads_load(request.company),
        "queue": queue,
        "queue_wait": _wait_text(queue.oldest_wait),
    }


def _availability(company, rows) -> None:
    """Beside each row: why work passes them by now (``avail_note``: out of office, off
    hours) and their open items against their capacity (``load``, a ``CapacityRow``, with
    the meter's bounds). One statement for the absences, one or two for the loads, whatever
    the number of rows."""
    agents = [r.agent for r in rows]
    availability = selectors.availability_by_agent(company=company, agents=agents)
    loads = capacity_rows(company=company, agents=agents)
    for row in rows:
        row.avail_note = selectors.name_note(availability.get(row.agent.pk))
        row.load = loads[row.agent.pk]
        if row.load.capacity:
            # The meter turns amber from 70 % and red once full.
            row.load_low = round(row.load.capacity * 0.7, 2)
            row.load_high = row.load.capacity - 0.5
        row.load_channels = [
            (channel, row.load.by_channel.get(channel, 0), limit)
            for channel, limit in sorted(row.load.limits.items())
        ]


def _wait_text(wait) -> str:
    """The oldest queued item's wait: "45 s", "12 min", "2 h 05 min"."""
    if wait is None:
        return ""
    seconds = max(0, int(wait.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _leads_load(company) -> list[tuple]:
    """Each Leads Agent and their open leads (two queries)."""
    open_leads = open_leads_by_agent(company)
    return [(agent, open_leads.get(agent.pk, 0)) for agent in leads_agents(company=company)]


@access_level_required(*LEAD_CENTER_LEVELS)
def center_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    """Members with presence, role and load; the queue; ring activity; alerts. The page
    follows the center's changes live (``center_dashboard_live``, the same reads).

    Queries, whatever the number of members (15, asserted in tests): middleware (4), center
    (1), the user's rights in it (2, guardian: user and group permissions, read once),
    members with presence (1), their absences now (1, availability: out of office, off
    hours), workload rows (1, contacts' selector: the same numbers as the workload page),
    queue (1), recent calls with their rings (1), members on a live call (1), alert states
    (1), company picker (1)."""
    center = center_for_request(request, pk)
    require(request.user, "view_center_dashboard", center)
    can_alerts = can(request.user, "set_center_alerts", center)
    alerts_form = AlertsForm(request.POST if request.method == "POST" else None, instance=center)
    if request.method == "POST":
        require(request.user, "set_center_alerts", center)
        if alerts_form.is_valid():
            with transaction.atomic():
                alerts_form.save()
                # The thresholds are on the dashboard: its other open copies show them.
                live_changed(company_id=center.company_id, streams=[stream_center(center.pk)])
            messages.success(request, "Alerts saved. Supervisors are emailed when one trips.")
            return redirect("centers:dashboard", pk=center.pk)
    return render(
        request,
        "agents/centers/dashboard.html",
        {
            "title": f"{center.name} — dashboard",
            **_center_dashboard_live(request, center),
            "alerts_form": alerts_form,
            "can_alerts": can_alerts,
            "can_manage": can(request.user, "edit_center_settings", center),
            "live_token": live_token(
                user=request.user,
                company_id=request.company.pk,
                streams=center_dashboard_streams(center),
            ),
        },
    )


def center_dashboard_streams(center) -> list[str]:
    """What a center's dashboard listens to: the center (members, roles, settings, its
    queue, ring activity, alerts) and the company's workload (its members' contacts and
    open items are counted there)."""
    return [stream_center(center.pk), stream_workload(center.company_id)]


@access_level_required(*LEAD_CENTER_LEVELS)
def center_dashboard_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The dashboard's live parts (``_dashboard_live.html``), fetched by
    ``static/js/live_parts.js`` when the center changed: the same rights and reads as the
    page. Queries, whatever the number of members (13, asserted in tests): the page's but
    the company picker and the last-seen write (done by the page's request within the
    minute), i.e. middleware (3), center (1), rights (2), members (1), absences (1),
    workload rows (1), queue (1), calls (1), on a live call (1), alert states (1)."""
    center = center_for_request(request, pk)
    require(request.user, "view_center_dashboard", center)
    response = render(
        request, "agents/centers/_dashboard_live.html", _center_dashboard_live(request, center)
    )
    response["Cache-Control"] = "no-store"
    return response


def _center_dashboard_live(request: HttpRequest, center) -> dict:
    """What the dashboard's live parts show (``_dashboard_live.html``): the page and its
    fragment read through this one function."""
    members = list(center_selectors.center_members(center=center))
    ids = {m.agent_id for m in members}
    availability = center_selectors.center_members_availability(center=center, members=members)
    for m in members:
        m.avail_note = selectors.name_note(availability.get(m.agent_id))
    load = {
        row.agent.pk: row
        for row in selectors.workload(company=request.company)
        if row.agent.pk in ids
    }
    calls = selectors.center_recent_calls(center=center)
    return {
        "center": center,
        "rows": [(m, load.get(m.agent_id)) for m in members],
        "available": sum(1 for m in members if m.presence_now == "available" and not m.avail_note),
        "queue": center_selectors.center_queue(center=center),
        "calls": calls,
        "rung_calls": sum(1 for call in calls if call.ring),
        "on_call": selectors.center_live_call_agents(center=center),
        # When it was read (the company's clock): the time of the last live update.
        "updated_at": zones.local(timezone.now(), request.company.time_zone),
        "alert_states": list(CenterAlertState.objects.filter(center=center, breached=True)),
        "can_coach": can_coach(request.user, center),
        "actions": CoachingRequest.Action,
    }


@require_POST
@access_level_required(*LEAD_CENTER_LEVELS)
def center_coach(request: HttpRequest, pk: int) -> HttpResponse:
    """Listen in / Barge in / Take over on a member's live call (refused, with the reason,
    when they have none: the dashboard shows the buttons only beside live calls)."""
    center = center_for_request(request, pk)
    require_coach(request.user, center)
    agent = center.company.agents.filter(pk=parse_pk(request.POST.get("agent"))).first()
    action = request.POST.get("action", "")
    if agent is None or action not in CoachingRequest.Action.values:
        messages.error(request, "Choose an agent and what to do.")
        return redirect("centers:dashboard", pk=center.pk)
    try:
        done = center_services.coaching_request(
            center=center,
            supervisor=request.user,
            agent=agent,
            action=action,
            on_live_call=agent.pk
            in selectors.center_live_call_agents(center=center, agent_ids=[agent.pk]),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{done.get_action_display()} requested on {agent}'s call.")
    return redirect("centers:dashboard", pk=center.pk)
