from celery import shared_task

from .models import Company


@shared_task(name="agents.ping")
def ping() -> dict:
    """Health check for the worker: proves broker, worker and database are all reachable."""
    return {"pong": True, "companies": Company.objects.count()}
