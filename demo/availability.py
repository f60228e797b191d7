"""Demo availability for the demo company (called by ``seed_demo`` after the demo's first
texts): Chloe out of office until the day after tomorrow with Ben covering, a 2-minute text
deadline, Emma at capacity, Diego working weekends only, two holidays.

Idempotent: settings are set only where blank, the absence only when Chloe has none ahead, the
texts once (idempotency keys). Ben, Ava and Emma are at their desks: Available and seen now,
so the demo's texts reach them (without a login they read as offline after
``PRESENCE_OFFLINE_AFTER_MINUTES``, as anyone does).
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from agents.availability.models import Absence, Holiday
from agents.models import Agent, Company, Presence
from agents.services import agent_set_presence
from agents.zones import zone_of
from routing.inbound import inbound_receive
from routing.models import ReassignmentGroup

# (phone of a demo contact, channel, what it is there for, what it says). The demo's
# deadline is for texts only (2 minutes): the covering item and Emma's are forms, so they stay
# where they are until someone handles them; Ava's text shows a deadline moving it to Active.
ITEMS = [
    ("+1 202 555 0122", "form", "a form from Chloe's contact: in Ben's Mine, covering for Chloe",
     "Form: we'd like to see the Maple Avenue house on Friday."),
    ("+1 202 555 0102", "text", "a text to Ava's contact: in Ava's Mine; not answered within 2 "
     "minutes, it moves to Active", "Is the garden flat still on the market?"),
    ("+1 202 555 0137", "form", "a form from Emma's contact (her capacity is 2)",
     "Form: please call me back today."),
    ("+1 202 555 0138", "form", "another: Emma is now full (the workload page says so)",
     "Form: sending the signed offer tonight."),
]  # fmt: skip
# A text the newcomer sends themselves (printed with its curl): Chloe's contact again.
LIVE_TEXT_PHONE = "+1 202 555 0123"


def _next(month: int, day: int, today: date) -> date:
    this_year = date(today.year, month, day)
    return this_year if this_year >= today else date(today.year + 1, month, day)


def seed_availability(company: Company, people: dict[str, Agent]) -> list[str]:
    """Set up the demo's availability and send its texts; returns the lines ``seed_demo``
    prints about it."""
    now = timezone.now()
    zone = zone_of(company.time_zone)
    today = now.astimezone(zone).date()
    changed = []
    if company.text_deadline_minutes is None:
        company.text_deadline_minutes = 2
        company.deadline_warning_minutes = 1
        changed += ["text_deadline_minutes", "deadline_warning_minutes"]
    if company.handover_after_misses is None:
        company.handover_after_misses = 3
        changed.append("handover_after_misses")
    if changed:
        company.save(update_fields=changed)
    team = ReassignmentGroup.objects.filter(company=company, name="Whole team").first()
    if (
        team is not None
        and not ReassignmentGroup.objects.filter(
            company=company, takes_missed_deadlines=True
        ).exists()
    ):
        team.takes_missed_deadlines = True
        team.save(update_fields=["takes_missed_deadlines"])
    for month, day, name in ((12, 25, "Christmas Day"), (1, 1, "New Year's Day")):
        Holiday.objects.get_or_create(
            company=company, date=_next(month, day, today), defaults={"name": name}
        )
    company.refresh_from_db(fields=["holiday_dates"])

    ava, ben, chloe, diego, emma = (
        people[f"{name}@northwind.test"] for name in ("ava", "ben", "chloe", "diego", "emma")
    )
    if not diego.working_hours:
        diego.working_hours = "Sat-Sun 10:00-16:00"
        diego.save(update_fields=["working_hours"])
    if emma.capacity is None:
        emma.capacity = 2
        emma.save(update_fields=["capacity"])
    absence = Absence.objects.filter(agent=chloe, ends_at__gt=now).first()
    if absence is None:
        back = datetime.combine(today + timedelta(days=2), time(17, 0), zone)
        absence = Absence.objects.create(
            company=company,
            agent=chloe,
            starts_at=now - timedelta(hours=1),
            ends_at=back,
            cover=ben,
            note="At the Denver property conference",
        )
    for agent in (ava, ben, emma):
        agent_set_presence(agent=agent, presence=Presence.AVAILABLE)
    sent = 0
    for n, (phone, channel, _why, body) in enumerate(ITEMS, start=1):
        _, replayed = inbound_receive(
            company=company,
            channel=channel,
            phone=phone,
            body=body,
            source="demo",
            idempotency_key=f"demo-availability-{n}",
        )
        sent += not replayed
    until = absence.ends_at.astimezone(zone)
    when = "just now" if sent else "when the demo was first loaded (a re-run sends nothing)"
    return [
        f"Availability (docs/availability.md): Chloe Martin is out of office until "
        f"{until:%a %d %b %H:%M} with Ben Okafor covering; texts must be answered within "
        f"{company.text_deadline_minutes} working minutes; Emma Schmidt's capacity is "
        f"{emma.capacity} open items; Diego Alvarez works weekends only.",
        f"Sent {when}:",
        *(f"  {why}" for _, _, why, _ in ITEMS),
        "Log in as ben@northwind.test to see the covering item, as ava@ to see her text move to "
        "Active, as supervisor@ for the workload page. Logged in as Ben, send a text to one of "
        "Chloe's contacts: it lands in your Mine, marked covering for Chloe.",
    ]
