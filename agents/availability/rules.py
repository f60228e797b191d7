"""Whether an agent can take work now: the rules of availability, in the order they apply
(docs/availability.md), over facts read once for a whole list of agents.

1. **No longer works here** (deactivated, or removed from the company): never picked by
   anything (the paths' own queries leave them out; listed here for the order).
2. **Out of office** (an ``Absence`` covering the moment): not available whatever the presence
   switch says; the absence's cover, if any, receives their texts and forms.
3. **Off hours**: outside the agent's working hours (their own, else the company's) or on a
   company holiday.
4. **Presence**: *Away*, or *Offline* (chose Offline, or not seen for
   ``PRESENCE_OFFLINE_AFTER_MINUTES``) — ``Agent.effective_presence``.
5. **Full**: at capacity (open items against their capacity, per channel where set).

``decide`` is the pure rule over one agent's facts; ``availability_of`` reads the facts of many
agents in three statements (absences, holidays, loads) and decides for each.
"""

import zoneinfo
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from ..choices import Presence
from ..models import Company
from ..zones import zone_of
from . import hours
from .models import Absence, Holiday, ItemLoad

AVAILABLE = "available"
AWAY = "away"
OFFLINE = "offline"
OUT_OF_OFFICE = "out of office"
OFF_HOURS = "off hours"
FULL = "full"

CHANNELS = ("text", "form", "chat", "call")


@dataclass(frozen=True)
class Capacity:
    """Open items an agent may hold: ``total`` over all channels, and per channel where set
    (None: no limit)."""

    total: int | None = None
    per_channel: tuple[tuple[str, int], ...] = ()

    def limit(self, channel: str | None) -> int | None:
        return dict(self.per_channel).get(channel) if channel else None

    @property
    def unlimited(self) -> bool:
        return self.total is None and not self.per_channel


@dataclass(frozen=True)
class Load:
    total: int = 0
    by_channel: tuple[tuple[str, int], ...] = ()

    def of(self, channel: str | None) -> int:
        return dict(self.by_channel).get(channel, 0) if channel else 0


@dataclass(frozen=True)
class Availability:
    """What routing needs to know of one agent now."""

    status: str  # one of AVAILABLE, AWAY, OFFLINE, OUT_OF_OFFICE, OFF_HOURS, FULL
    why: str = ""  # for the why log: "out of office until 2026-12-04 17:00 (cover: Ben Okafor)"
    label: str = ""  # for pages: "Out of office until Fri 17:00"
    until: datetime | None = None  # when it ends (absence end, next working hour)
    cover_id: int | None = None
    cover_name: str = ""

    @property
    def available(self) -> bool:
        return self.status == AVAILABLE


def _when(moment: datetime, zone: zoneinfo.ZoneInfo, now: datetime) -> str:
    """A moment as a page says it: "17:00" today, "Fri 17:00" within a week, else the date."""
    local = moment.astimezone(zone)
    today = now.astimezone(zone).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    if today < local.date() < today + timedelta(days=7):
        return f"{local:%a %H:%M}"
    return f"{local:%a %d %b %H:%M}"


def when_text(moment: datetime, time_zone: str, *, now: datetime | None = None) -> str:
    return _when(moment, zone_of(time_zone), now or timezone.now())


def covering_text(owner_name: str, until: datetime, time_zone: str) -> str:
    """The mark on an item a cover received: "covering for Ava Patel until Fri 17:00"."""
    return f"covering for {owner_name} until {when_text(until, time_zone)}"


# (``Presence.values`` builds a new list on every read)
_PRESENCE_WORDS = {value: label.lower() for value, label in Presence.choices}


def decide(
    *,
    presence: str,
    schedule: hours.Schedule,
    holidays: Collection[date],
    zone: zoneinfo.ZoneInfo,
    at: datetime,
    absence: Absence | None = None,
    capacity: Capacity = Capacity(),
    load: Load = Load(),
    channel: str | None = None,
) -> Availability:
    """The rules of the module's docstring, 2 to 5, for one agent (``presence`` is their
    effective presence). Pure: every fact is passed in."""
    if absence is not None:
        cover = absence.cover if absence.cover_id is not None else None
        stamp = f"{absence.ends_at.astimezone(zone):%Y-%m-%d %H:%M}"
        why = f"out of office until {stamp}" + (f" (cover: {cover})" if cover else "")
        return Availability(
            OUT_OF_OFFICE,
            why=why,
            label=f"Out of office until {_when(absence.ends_at, zone, at)}",
            until=absence.ends_at,
            cover_id=absence.cover_id,
            cover_name=str(cover) if cover else "",
        )
    if not hours.is_open(schedule, holidays, zone, at):
        back = hours.next_open(schedule, holidays, zone, at)
        if back is None:
            return Availability(
                OFF_HOURS, why="off hours (no working hours set)", label="Off hours"
            )
        return Availability(
            OFF_HOURS,
            why=f"off hours until {back.astimezone(zone):%Y-%m-%d %H:%M}",
            label=f"Off hours until {_when(back, zone, at)}",
            until=back,
        )
    if presence != Presence.AVAILABLE:
        word = _PRESENCE_WORDS.get(presence, presence)
        return Availability(presence, why=word, label=word.capitalize())
    total_cap, channel_cap = capacity.total, capacity.limit(channel)
    if total_cap is not None and load.total >= total_cap:
        return Availability(
            FULL,
            why=f"at capacity ({load.total} of {total_cap} open items)",
            label=f"Full ({load.total}/{total_cap})",
        )
    if channel_cap is not None and load.of(channel) >= channel_cap:
        return Availability(
            FULL,
            why=f"at capacity for {channel}s ({load.of(channel)} of {channel_cap} open)",
            label=f"Full for {channel}s ({load.of(channel)}/{channel_cap})",
        )
    return Availability(AVAILABLE, why="available", label="Available")


def schedule_of(company, agent) -> hours.Schedule:
    """The agent's own working hours, else the company's (blank both: always). A stored text
    that no longer reads (it was validated on save) counts as always, never as never."""
    text = (agent.working_hours or "").strip() or (company.working_hours or "")
    try:
        return hours.parse_schedule(text)
    except hours.ScheduleError:
        return hours.ALWAYS


def capacity_of(company, agent) -> Capacity:
    total = agent.capacity if agent.capacity is not None else company.default_capacity
    per_channel = tuple(
        (channel, limit)
        for channel, limit in (
            ("text", agent.text_capacity),
            ("form", agent.form_capacity),
            ("chat", agent.chat_capacity),
        )
        if limit is not None
    )
    return Capacity(total=total, per_channel=per_channel)


def company_holidays(company) -> frozenset[date]:
    """The company's holidays, from the copy on its row (``Company.holiday_dates``, kept by
    ``holidays_sync``): no query."""
    return frozenset(date.fromisoformat(day) for day in company.holiday_dates or ())


def holidays_sync(company_id: int) -> None:
    """Copy the company's ``Holiday`` rows onto its row (after every change to them)."""
    days = sorted(
        d.isoformat()
        for d in Holiday.objects.filter(company_id=company_id).values_list("date", flat=True)
    )
    Company.objects.filter(pk=company_id).update(holiday_dates=days)


def absences_now(
    *, company_id: int, agent_ids: Iterable[int] | None, at: datetime
) -> dict[int, Absence]:
    """Each agent's absence in the company covering ``at``, the one ending last when several
    overlap, with its cover loaded (``agent_ids`` None: everyone's in the company, read by
    the company's index — cheaper than hundreds of ids as parameters). An absence is its
    company's (its cover works there, its admins see and end it): an agent of two companies
    is out where they said so."""
    found: dict[int, Absence] = {}
    rows = Absence.objects.filter(company_id=company_id, starts_at__lte=at, ends_at__gt=at)
    if agent_ids is not None:
        rows = rows.filter(agent_id__in=list(agent_ids))
    rows = rows.select_related("cover").order_by("agent_id", "ends_at")
    for absence in rows:
        found[absence.agent_id] = absence
    return found


def loads_of(*, company, agent_ids: Iterable[int]) -> dict[int, Load]:
    return {
        row.agent_id: Load(
            total=row.total,
            by_channel=tuple((c, getattr(row, c)) for c in CHANNELS),
        )
        for row in ItemLoad.objects.filter(company=company, agent_id__in=list(agent_ids))
    }


def decide_agent(
    company,
    agent,
    *,
    at: datetime,
    zone: zoneinfo.ZoneInfo,
    holidays: Collection[date],
    absence: Absence | None = None,
    load: Load = Load(),
    channel: str | None = None,
    capacity: Capacity | None = None,
) -> Availability:
    """``decide`` for an agent row: their effective presence, schedule and capacity (unless
    given) read from it and the company's defaults; the facts that need a query are the
    caller's."""
    return decide(
        presence=agent.effective_presence,
        schedule=schedule_of(company, agent),
        holidays=holidays,
        zone=zone,
        at=at,
        absence=absence,
        capacity=capacity_of(company, agent) if capacity is None else capacity,
        load=load,
        channel=channel,
    )


def availability_of(
    *,
    company,
    agents: Iterable,
    at: datetime | None = None,
    channel: str | None = None,
    with_capacity: bool = True,
) -> dict[int, Availability]:
    """Every agent's availability now (by id), for the work of ``channel`` (None: a contact
    to own, counted against the total only). Three statements whatever the number of agents;
    capacity is skipped (``with_capacity=False``) where it does not apply."""
    agents = list(agents)
    at = at or timezone.now()
    if not agents:
        return {}
    zone = zone_of(company.time_zone)
    ids = [a.pk for a in agents]
    absences = absences_now(company_id=company.pk, agent_ids=ids, at=at)
    holidays = company_holidays(company)
    capacities = {a.pk: capacity_of(company, a) for a in agents} if with_capacity else {}
    limited = [pk for pk, cap in capacities.items() if not cap.unlimited]
    loads = loads_of(company=company, agent_ids=limited) if limited else {}
    return {
        a.pk: decide_agent(
            company,
            a,
            at=at,
            zone=zone,
            holidays=holidays,
            absence=absences.get(a.pk),
            load=loads.get(a.pk, Load()),
            channel=channel,
            capacity=capacities.get(a.pk, Capacity()),
        )
        for a in agents
    }


def availability_one(agent, *, company, at: datetime | None = None, channel: str | None = None):
    return availability_of(company=company, agents=[agent], at=at, channel=channel)[agent.pk]
