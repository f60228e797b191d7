"""The Celery application.

With ``REDIS_URL`` the broker is Redis. Without it the broker is kombu's filesystem
transport under ``var/celery/``, so ``make run`` still runs a real worker and beat with no
server to install (see ``config/settings.py``).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
