"""Out of office: an agent adds their own absences (from – to, a note, a cover agent) and ends
or deletes them. The page (``views.py``) and any other entry point write through these."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..locks import lock_agents
from ..models import Agent, Company
from ..selectors import eligible_primary_agents
from ..zones import zone_of
from .models import NOTE_MAX, Absence

# A start a little before now is someone meaning "from now" who took a minute to fill the form.
START_GRACE = timedelta(minutes=5)
LONGEST = timedelta(days=366)


def _stamp(moment: datetime, company: Company) -> str:
    return f"{moment.astimezone(zone_of(company.time_zone)):%a %d %b %Y %H:%M}"


def absence_clean(
    *,
    company: Company,
    agent: Agent,
    starts_at: datetime,
    ends_at: datetime,
    cover: Agent | None,
    note: str = "",
    now: datetime | None = None,
) -> None:
    """Refuse, keyed by field, what a person can get wrong on the form."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if ends_at <= starts_at:
        errors["ends_at"] = "The end must be after the start."
    elif ends_at <= now:
        errors["ends_at"] = "That end is already past: an out of office ends in the future."
    elif starts_at < now - START_GRACE:
        errors["starts_at"] = "That start is in the past. To be out from now, start it now."
    elif ends_at - starts_at > LONGEST:
        errors["ends_at"] = "An out of office lasts at most a year; add another after it."
    if len(note or "") > NOTE_MAX:
        errors["note"] = f"The note is at most {NOTE_MAX} characters."
    if cover is not None:
        if cover.pk == agent.pk:
            errors["cover"] = "You cannot cover for yourself: choose someone else, or nobody."
        elif not eligible_primary_agents(company=company).filter(pk=cover.pk).exists():
            errors["cover"] = (
                f"{cover} is not an active Lead Center agent of {company}: choose a cover "
                "from the list."
            )
    if not errors:
        clash = (
            Absence.objects.filter(
                company=company, agent=agent, starts_at__lt=ends_at, ends_at__gt=starts_at
            )
            .order_by("starts_at")
            .first()
        )
        if clash is not None:
            errors["starts_at"] = (
                f"This overlaps your out of office from {_stamp(clash.starts_at, company)} "
                f"to {_stamp(clash.ends_at, company)}. End or change that one first."
            )
    if errors:
        raise ValidationError(errors)


def absence_create(
    *,
    company: Company,
    agent: Agent,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
    cover: Agent | None = None,
    created_by: Agent | None = None,
    now: datetime | None = None,
) -> Absence:
    """Add an out of office for ``agent`` in ``company``. The agent's row lock makes two
    submissions at once (two tabs) see each other, so neither adds an overlap."""
    with transaction.atomic():
        lock_agents([agent.pk])
        absence_clean(
            company=company,
            agent=agent,
            starts_at=starts_at,
            ends_at=ends_at,
            cover=cover,
            note=note,
            now=now,
        )
        return Absence.objects.create(
            company=company,
            agent=agent,
            starts_at=starts_at,
            ends_at=ends_at,
            note=(note or "").strip(),
            cover=cover,
            created_by=created_by or agent,
        )


def _own_absence(*, company: Company, agent: Agent, absence_id: int | None) -> Absence:
    """The agent's own absence in the company; any other id (someone else's, another
    company's, none) is the same "no such" answer, so ids tell nothing."""
    absence = (
        Absence.objects.filter(pk=absence_id, company=company, agent=agent).first()
        if absence_id is not None
        else None
    )
    if absence is None:
        raise ValidationError("No such out of office of yours.")
    return absence


def absence_delete(*, company: Company, agent: Agent, absence_id: int | None) -> None:
    """Remove one of the agent's own absences altogether (one that has not started)."""
    with transaction.atomic():
        lock_agents([agent.pk])
        _own_absence(company=company, agent=agent, absence_id=absence_id).delete()


def absence_end(
    *, company: Company, agent: Agent, absence_id: int | None, now: datetime | None = None
) -> str:
    """End one of the agent's own absences: one under way ends now (the cover with it), one
    still to come is deleted, one already over is refused. Returns what was done, in words."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_agents([agent.pk])
        absence = _own_absence(company=company, agent=agent, absence_id=absence_id)
        if absence.ends_at <= now:
            raise ValidationError("That out of office is already over.")
        if absence.starts_at >= now:
            absence.delete()
            return "Deleted your out of office: it had not started."
        absence.ends_at = now
        absence.save(update_fields=["ends_at"])
        return "Your out of office ended now: your texts and forms come to you again."
