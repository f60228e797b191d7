"""Pages of how much each agent carries: the workload page (admins and supervisors: contacts,
campaign queues and leads side by side) and a contact center's dashboard (its members with
their load)."""

from html import escape

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

from agents import zones
from agents.access import is_company_admin
from agents.availability import rules
from agents.centers import selectors as center_selectors
from agents.centers import services as center_services
from agents.centers.forms import AlertsForm
from agents.centers.models import CenterAlertState, CenterMembership, CoachingRequest
from agents.centers.permissions import can, can_coach, center_for_request, require, require_coach
from agents.choices import AccessLevel, Presence
from agents.live import live_changed, live_token, stream_center, stream_workload
from agents.models import Agent
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
        # The bars are the people the average is about, and anyone else who owns contacts
        # (an admin or supervisor at 0 beside an "agents only" average read as a gap).
        "bars": [item for item in chart if item["row"].agent.pk in compared or item["row"].primary],
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
    hours), their loads (1, ``contacts.selectors.member_loads``: the workload page's numbers),
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
    loads (1), queue (1), calls (1), on a live call (1), alert states (1)."""
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
    # The columns the rows show, as values: 500 memberships and agents as instances (and
    # their availability decided one by one) were a third of the page's time.
    members = list(
        center_selectors.center_members(center=center).values_list(
            "agent_id",
            "role",
            "agent__email",
            "agent__full_name",
            "agent__working_hours",
            "presence_now",
        )  # fmt: skip
    )
    notes = _name_notes(request.company, members)
    available = sum(1 for m in members if m[5] == Presence.AVAILABLE and not notes.get(m[0]))
    # (the members as a subquery: 500 ids in each of its four parts cost more to pass)
    load = selectors.member_loads(
        company=request.company,
        agent_ids=center_selectors.working_members(center).values("agent_id"),
    )
    calls = selectors.center_recent_calls(center=center)
    on_call = selectors.center_live_call_agents(center=center)
    coach = can_coach(request.user, center)
    return {
        "center": center,
        "member_count": len(members),
        "member_rows": _member_rows(
            members,
            notes,
            load,
            coach_form=_coach_form(request, center) if coach else None,
            on_call=on_call,
            user_pk=request.user.pk,
        ),
        "available": available,
        "queue": center_selectors.center_queue(center=center),
        "calls": calls,
        "rung_calls": sum(1 for call in calls if call.ring_size),
        "on_call": on_call,
        # When it was read (the company's clock): the time of the last live update.
        "updated_at": zones.local(timezone.now(), request.company.time_zone),
        "alert_states": list(CenterAlertState.objects.filter(center=center, breached=True)),
        "can_coach": coach,
        "actions": CoachingRequest.Action,
    }


def _name_notes(company, members) -> dict[int, str]:
    """The words beside each member's name (``contacts.selectors.name_note``: out of office,
    off hours; none when neither), by agent id. The rules' own ``decide`` on the same facts
    as ``availability_of``, but made once per distinct set of them: out of office depends on
    the member's absence (one statement for all), off hours on their working hours (most
    members share the company's). Capacity is not asked: both notes are decided before it."""
    at = timezone.now()
    zone = zones.zone_of(company.time_zone)
    holidays = rules.company_holidays(company)
    # (the company's, by its index: the members' 500 ids as parameters were half the time)
    absences = rules.absences_now(company_id=company.pk, agent_ids=None, at=at)
    decided: dict[tuple, str] = {}
    notes = {}
    for agent_id, _role, _email, _name, working_hours, presence in members:
        absence = absences.get(agent_id)
        key = (working_hours, presence, absence.pk if absence else None)
        note = decided.get(key)
        if note is None:
            schedule = rules.schedule_of(company, Agent(working_hours=working_hours))
            note = decided[key] = selectors.name_note(
                rules.decide(
                    presence=presence,
                    schedule=schedule,
                    holidays=holidays,
                    zone=zone,
                    at=at,
                    absence=absence,
                )
            )
        if note:
            notes[agent_id] = note
    return notes


# Someone who may not own contacts (a Leads Agent) has no load: dashes.
NO_LOAD = ("—", "—", "—")


def _coach_form(request: HttpRequest, center) -> tuple[str, str]:
    """A live call's coaching form, around the member's id: its start (action, CSRF token)
    and its end (one button per action), made once for every row."""
    start = (
        f'<form method="post" action="{escape(reverse("centers:coach", args=[center.pk]))}" '
        f'class="button-row">\n            <input type="hidden" name="csrfmiddlewaretoken" '
        f'value="{escape(get_token(request))}"><input type="hidden" name="agent" value="'
    )
    buttons = "".join(
        f'<button class="secondary small" name="action" value="{escape(value)}">'
        f"{escape(str(label))}</button>"
        for value, label in CoachingRequest.Action.choices
    )
    return start, f'">\n            {buttons}\n          </form>'


def _member_rows(
    members, notes: dict, load: dict, *, coach_form, on_call: set, user_pk: int
) -> SafeString:
    """The members table's rows, as HTML: written here, not by the template, because 500
    rows of ten template variables and filters were over half of the page's time. Every
    value is escaped; the markup is the one the table had as template code."""
    if not members:
        return SafeString('<tr><td colspan="7" class="empty">No members yet.</td></tr>')
    # The labels in the active language, read once for all rows.
    role_labels = {value: str(label) for value, label in CenterMembership.Role.choices}
    rows = []
    for agent_id, role, email, full_name, _hours, presence_now in members:
        counts, note = load.get(agent_id, NO_LOAD), notes.get(agent_id)
        if note:
            presence = f'<span class="avail-label">{escape(capfirst(note))}</span>'
        else:
            word = escape(presence_now)
            presence = f'<span class="presence-label presence-{word}">{capfirst(word)}</span>'
        coaching = ""
        if coach_form is not None:
            if agent_id == user_pk:
                cell = ""
            elif agent_id in on_call:
                cell = f"\n          {coach_form[0]}{agent_id}{coach_form[1]}"
            else:
                cell = '<span class="muted small">No live call</span>'
            coaching = f"\n        <td>{cell}\n        </td>"
        rows.append(
            f'<tr data-agent="{escape(email)}">\n'
            # Agent.__str__: the name, else the email.
            f"        <td>{escape(full_name or email)}</td>\n"
            f"        <td>{escape(role_labels.get(role, role))}</td>\n"
            f"        <td>{presence}</td>\n"
            f'        <td class="num">{counts[0]}</td>\n'
            f'        <td class="num">{counts[1]}</td>\n'
            f'        <td class="num">{counts[2]}</td>{coaching}\n'
            "      </tr>"
        )
    return SafeString("\n      ".join(rows))


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
