from celery import shared_task

from .alerts import center_alerts_evaluate
from .selectors import centers_with_alerts


@shared_task(name="agents.evaluate_center_alerts")
def evaluate_center_alerts() -> int:
    """Beat, every minute: evaluate every center with alerts set; emails only on a change."""
    sent = 0
    for center in centers_with_alerts().select_related("company").iterator():
        sent += len(center_alerts_evaluate(center=center))
    return sent
