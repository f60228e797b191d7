from celery import shared_task

from .models import Company


@shared_task(name="agents.ping")
def ping() -> dict:
    """Health check for the worker: proves broker, worker and database are all reachable."""
    return {"pong": True, "companies": Company.objects.count()}


# Register the contact centers' tasks with the worker (autodiscovery reads agents.tasks).
from .centers.tasks import evaluate_center_alerts  # noqa: E402, F401
