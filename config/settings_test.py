"""Settings for the test suite: the real settings, with fast hashing and eager tasks.

``DATABASE_URL`` and ``REDIS_URL`` still come from the environment, so CI runs the same
tests against PostgreSQL and Redis.
"""

import os

# The suite runs with DEBUG off, which refuses the built-in development key; subprocesses the
# tests start (workers, servers) inherit this one.
os.environ.setdefault("SECRET_KEY", "test-only-key-" + "k3Jq9zR2xW7vN5mP8sT4" * 3)

from .settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Run tasks through their real code, in process. tests/test_celery_worker.py proves the
# round trip through a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
SECURE_SSL_REDIRECT = False
# Every test checks the one lock order (agents/lockorder.py): a transaction that goes back
# down the order raises.
LOCK_ORDER_CHECK = True
# The tests' receivers listen on 127.0.0.1.
WEBHOOK_ALLOW_LOOPBACK = True
# ...over plain HTTP, whatever HTTPS the environment sets.
WEBHOOK_REQUIRE_HTTPS = False
