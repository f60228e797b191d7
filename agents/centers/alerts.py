"""Center alerts: measure, compare with the supervisor's thresholds, email on a change.

The state of each alert lives in ``CenterAlertState``, so supervisors get one email when a
breach starts and one when it clears, however often the evaluator runs.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from ..live import live_changed, stream_center
from ..locks import lock_alert_state
from .models import CenterAlertState, ContactCenter
from .selectors import (
    center_available_count,
    center_supervisor_emails,
    center_waiting_older_than,
)

Kind = CenterAlertState.Kind


def center_measure(center: ContactCenter) -> dict[str, tuple[bool, int, str]]:
    """Each alert set on the center: (in breach, measured value, sentence)."""
    measured = {}
    if center.alert_min_available is not None:
        available = center_available_count(center=center)
        measured[Kind.AVAILABLE_LOW] = (
            available < center.alert_min_available,
            available,
            f"{available} agent(s) available in {center} (alert below "
            f"{center.alert_min_available}).",
        )
    if center.alert_max_wait_minutes is not None:
        waiting = center_waiting_older_than(center=center, minutes=center.alert_max_wait_minutes)
        measured[Kind.WAITING_LONG] = (
            waiting > 0,
            waiting,
            f"{waiting} item(s) waiting longer than {center.alert_max_wait_minutes} minute(s) "
            f"in {center}'s queue.",
        )
    return measured


def center_alerts_evaluate(*, center: ContactCenter, measured: dict | None = None) -> list[str]:
    """Compare and email on a change of state; returns the subjects sent (for the log)."""
    measured = center_measure(center) if measured is None else measured
    sent = []
    for kind, (breached, value, sentence) in measured.items():
        with transaction.atomic():
            state = lock_alert_state(center=center, kind=kind)
            if state.breached == breached:
                continue
            state.breached, state.value, state.changed_at = breached, value, timezone.now()
            state.save(update_fields=["breached", "value", "changed_at"])
            # The dashboard lists the alerts in breach.
            live_changed(company_id=center.company_id, streams=[stream_center(center.pk)])
            recipients = center_supervisor_emails(center=center)
            label = Kind(kind).label
            subject = f"[{center}] {'Alert' if breached else 'Cleared'}: {label}"
            body = sentence + ("" if breached else "\nBack within the threshold; no action needed.")
            if recipients:
                transaction.on_commit(
                    lambda s=subject, b=body, r=recipients: send_mail(
                        s, b, settings.DEFAULT_FROM_EMAIL, r
                    )
                )
            sent.append(subject)
    # Alerts turned off: forget their state, so turning them on again starts clean.
    forgotten, _ = (
        CenterAlertState.objects.filter(center=center).exclude(kind__in=list(measured)).delete()
    )
    if forgotten:
        live_changed(company_id=center.company_id, streams=[stream_center(center.pk)])
    return sent
