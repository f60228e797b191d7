"""Settings for the test suite: the real settings, with fast hashing and eager tasks.

``DATABASE_URL`` and ``REDIS_URL`` still come from the environment, so CI runs the same
tests against PostgreSQL and Redis.
"""

from .settings import *  # noqa: F403

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
