"""Switchboard settings, all read from the environment (django-environ).

Every variable is documented in ``.env.example``. With nothing set, the project runs on its
embedded default: SQLite in ``var/``, no Redis (Celery on kombu's filesystem transport),
emails printed to the console.
"""

import sys
import warnings
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)  # the SQLite file, the demo's broker queue, screenshots

env = environ.Env()
# A local .env is optional; real deployments set the environment directly.
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The built-in key is public (it is in this file): only DEBUG=1 (local development) may use it.
SECRET_KEY = env.str("SECRET_KEY", default="") or (
    "django-insecure-dev-only-key-change-me-in-production-0123456789abcdef"
)
# Commands that only read the code (no server, no signed data, no database writes) may run
# without a key: ``manage.py makemigrations --check`` in a fresh checkout, for one.
_READS_CODE_ONLY = {"makemigrations", "showmigrations", "sqlmigrate", "help"}
_code_only = (
    Path(sys.argv[0]).name == "manage.py" and sys.argv[1:2] and (sys.argv[1] in _READS_CODE_ONLY)
)
_dev_key = SECRET_KEY.startswith("django-insecure-") or SECRET_KEY == "change-me"
if not DEBUG and _dev_key and not _code_only:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: with DEBUG off Switchboard refuses to start on the built-in "
        "development key. Set SECRET_KEY to a long random string (e.g. the output of "
        '`python -c "import secrets; print(secrets.token_urlsafe(50))"`), '
        "or set DEBUG=1 for local development."
    )
# HTTPS=1 means production behind TLS (see Security below).
HTTPS = env.bool("HTTPS", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # Live pages (docs/live.md): the socket at /live/ (config/asgi.py, desk/live.py).
    "channels",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "guardian",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "agents",
    # Outbound webhooks: the event outbox, endpoints and deliveries (below contacts, which
    # writes events in the transaction of each change).
    "events",
    "contacts",
    "routing",
    "campaigns",
    "leads",
    # Pages and admin screens that compose several apps; above them all (docs/architecture.md).
    "desk",
    # The public REST API (/api/v1/): keys, idempotency, the resources; above every app.
    "api",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # /api/ (the inbound webhook) skips everything below: sessions, auth, messages, axes, CSP.
    "agents.middleware.ApiFastPathMiddleware",
    # /api/ answers 503 JSON, not an HTML 500, while the database is unreachable.
    "agents.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "agents.middleware.HeaderGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "agents.middleware.CurrentCompanyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Uploads past the size limit: 413 by Content-Length before the body is read, and the
    # reading stopped at the limit without one (campaigns/upload_limit.py).
    "campaigns.upload_limit.UploadLimitMiddleware",
    "agents.middleware.BadIdMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out login into the login page with the lockout message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# The live pages' socket (/live/) and, for the demo, every page in one process (bin/run-demo).
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agents.context_processors.current_company",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'switchboard.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs a web server and a worker on one SQLite file: WAL lets readers go on
    # while one writes, IMMEDIATE takes the write lock up front instead of failing midway.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # PostgreSQL's JIT spends ~300 ms compiling the workload page's query on big tables,
    # ten times what the query itself takes: these are short OLTP queries.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The statements of agents.rawsql are prepared once per connection (parsed and planned
    # once): the webhook's, and the single-row inserts it shares with the rest of the app
    # (timeline rows everywhere). Every other query binds on the client, as Django does.
    # PREPARED_STATEMENTS=0 turns it off, e.g. behind PgBouncer in transaction pooling mode
    # without max_prepared_statements (docs/operations.md).
    if env.bool("PREPARED_STATEMENTS", default=True):
        # psycopg prepares a statement after this many runs; Django's client-side cursors
        # never do, and the prepared cursor asks for it on the first run.
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 2**31 - 1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    # A Redis that drops packets must not hold a request (the webhook's wrong-token count,
    # sessions are in the database): connecting and each reply are bounded, then the caller's
    # fallback answers (docs/operations.md, "When things fail").
    CACHE_SOCKET_TIMEOUT = 1.0  # seconds
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": CACHE_SOCKET_TIMEOUT,
                "socket_timeout": CACHE_SOCKET_TIMEOUT,
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # kombu's Redis transport, but the worker rides out a Redis restart (config/celery.py).
    CELERY_BROKER_TRANSPORT = "config.celery:RedisTransport"
    # A web process that cannot reach Redis gives up within about a second per try, and
    # answers anyway (docs/operations.md, "When things fail"); without a bound a host that
    # drops packets holds the request for the system's TCP timeout.
    BROKER_CONNECT_TIMEOUT = env.float("BROKER_CONNECT_TIMEOUT", default=1.0)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis redelivers unacknowledged messages after this; keep it above the longest
        # countdown we schedule so a delayed task is not run twice.
        "visibility_timeout": 3600,
        "socket_connect_timeout": BROKER_CONNECT_TIMEOUT,
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = BROKER_CONNECT_TIMEOUT
    # Sending a task subscribes to its result in Redis; by default that retries 20 times a
    # second apart (the 19-second hang of a request while Redis is down).
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
        "retry_policy": {
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        }
    }
    CELERY_TASK_PUBLISH_RETRY_POLICY = {
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "filesystem://"
    _celery_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery")))
    for _sub in ("queue", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        # Broadcast (control) messages too, or kombu writes them into ./control.
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = None

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = not CELERY_RESULT_BACKEND
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "resend-stuck-lead-emails": {"task": "leads.resend_stuck_lead_emails", "schedule": 60.0},
    "resend-stuck-assignment-emails": {
        "task": "contacts.resend_stuck_assignment_emails",
        "schedule": 60.0,
    },
    # Claim windows end on time even if their expiry message was lost.
    "sweep-rounds": {"task": "routing.sweep_rounds", "schedule": 5.0},
    # Offer emails whose message never reached the broker (routing/tasks.py).
    "send-unsent-offer-emails": {"task": "routing.send_unsent_offer_emails", "schedule": 60.0},
    # Contact-center alerts; emails go out only when a breach starts or clears.
    "evaluate-center-alerts": {"task": "agents.evaluate_center_alerts", "schedule": 60.0},
    # List imports whose worker (or command) stopped: queued again or failed with a reason;
    # orphan upload files removed (campaigns/recovery.py).
    "sweep-list-imports": {"task": "campaigns.sweep_list_imports", "schedule": 60.0},
    # The API's Idempotency-Key answers past API_IDEMPOTENCY_HOURS.
    "sweep-idempotency-keys": {"task": "api.sweep_idempotency_keys", "schedule": 3600.0},
    # --- Availability (docs/availability.md) ---
    # Owners' response deadlines: warnings due are emailed, missed items move to Active
    # (routing/deadlines.py); rows in the database, so a restart loses nothing.
    "sweep-response-deadlines": {"task": "routing.sweep_response_deadlines", "schedule": 5.0},
    # The capacity queue is handed out to agents with room: after a load drop it drains at
    # once; this catches agents whose hours began, whose absence ended or who came back.
    "drain-capacity-queues": {"task": "contacts.drain_capacity_queues", "schedule": 5.0},
    "resend-stuck-deadline-emails": {
        "task": "routing.resend_stuck_deadline_emails",
        "schedule": 60.0,
    },
    # --- Outbound webhooks (events/): entries below are the events app's ---
    # Events an after-commit message missed are dispatched; deliveries due (retries after
    # their backoff, runs a killed worker left) are sent (events/delivery.py, sweep).
    "sweep-outbound-webhooks": {"task": "events.sweep_outbound", "schedule": 5.0},
    "resend-stuck-endpoint-emails": {
        "task": "events.resend_stuck_endpoint_emails",
        "schedule": 60.0,
    },
    # Deliveries and events older than WEBHOOK_KEEP_DAYS (events/retention.py).
    "prune-outbox": {"task": "events.prune_outbox", "schedule": 3600.0},
}
CELERY_TIMEZONE = "UTC"


# Live pages (docs/live.md): with Redis, its pub/sub carries a change from the process that
# committed it to every process holding a socket; without, the in-memory layer reaches the
# sockets of the same process only (the demo serves everything in one: bin/run-demo).
# The prefix names the Redis channels (pub/sub ignores the db number: two sites, or two test
# runs, on one Redis need prefixes of their own).
LIVE_CHANNEL_PREFIX = env.str("LIVE_CHANNEL_PREFIX", default="switchboard.live")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": LIVE_CHANNEL_PREFIX},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "agents.Agent"
AUTHENTICATION_BACKENDS = [
    # First: refuses any password (even the right one) while the login is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user would show up as an agent in every list; we don't need it.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Password guessing (django-axes, see agents/lockout.py): after LOGIN_FAILURE_LIMIT wrong
# passwords for one email from one address, that pair is refused for LOGIN_LOCKOUT_MINUTES;
# after LOGIN_ADDRESS_FAILURE_LIMIT from one address, whatever the emails, the address is
# (IPv6 addresses count by their /64, agents.lockout.client_address); an admin unlocks a
# login sooner in the admin, an operator (superuser) an address.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
# The pair, then the address: agents.lockout.LoginLockoutHandler reads them in this order.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "agents.lockout.LoginLockoutHandler"
# Both login forms post the email as "username" (axes would look for "email").
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "agents.lockout.login_username"
AXES_LOCKOUT_CALLABLE = "agents.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# A try refused because of a lockout is not a failure: counted, the right password of
# someone behind a locked address would lock their own email too, and every refused try
# would start the wait again.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "agents.lockout.client_address"

# Presence: an agent not seen for this long counts as offline whatever they last chose.
PRESENCE_OFFLINE_AFTER_MINUTES = env.int("PRESENCE_OFFLINE_AFTER_MINUTES", default=15)

# --- Email ----------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Switchboard <switchboard@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A hung mail server must not hold a worker (and the email's row lock) forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# --- I18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Content-Security-Policy ------------------------------------------------------------
# Every script and style our pages and the admin need is a file under /static/: no inline
# code or style attributes, so an injected <script> or style="" is refused by the browser.
MIDDLEWARE += ["csp.middleware.CSPMiddleware"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The live pages' socket: this site's own ws:/wss: ('self' covers them in CSP 3
        # browsers; named for the rest), or LIVE_CONNECT_SRC where /live/ is served apart.
        "connect-src": ["'self'", *env.list("LIVE_CONNECT_SRC", default=[])],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default=(
                "django.contrib.staticfiles.storage.StaticFilesStorage"
                if DEBUG
                else "whitenoise.storage.CompressedManifestStaticFilesStorage"
            ),
        )
    },
}

# Uploads are bounded: anything bigger is refused before it reaches a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Contact-list CSV uploads (campaigns) above this many bytes are refused with a message.
CONTACT_LIST_MAX_UPLOAD_BYTES = env.int("CONTACT_LIST_MAX_UPLOAD_BYTES", default=300 * 1_048_576)
# Every other upload (and any from someone not logged in as staff) is refused above this
# (campaigns/upload_limit.py).
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1_048_576)
# A list import whose run has given no sign of life for this long is taken for stopped (its
# worker or command killed) by the sweep: queued again, up to LIST_IMPORT_MAX_ATTEMPTS runs
# in all, then failed with a reason (docs/operations.md, "An import whose worker died").
LIST_IMPORT_STALE_SECONDS = env.int("LIST_IMPORT_STALE_SECONDS", default=120)
LIST_IMPORT_MAX_ATTEMPTS = env.int("LIST_IMPORT_MAX_ATTEMPTS", default=3)
# The inbound webhook refuses bodies above this (413).
WEBHOOK_MAX_REQUEST_BYTES = env.int("WEBHOOK_MAX_REQUEST_BYTES", default=65_536)
# Wrong tokens (noise and load from a misconfigured or hostile sender; a 256-bit token
# cannot be guessed): after WEBHOOK_TOKEN_FAILURE_LIMIT missing or wrong tokens from one address
# within a window of WEBHOOK_TOKEN_FAILURE_WINDOW_SECONDS, that address's wrong tokens get 429
# with Retry-After until the window ends (counted in the cache; the right token always works).
# 0 turns it off.
WEBHOOK_TOKEN_FAILURE_LIMIT = env.int("WEBHOOK_TOKEN_FAILURE_LIMIT", default=20)
WEBHOOK_TOKEN_FAILURE_WINDOW_SECONDS = env.int("WEBHOOK_TOKEN_FAILURE_WINDOW_SECONDS", default=60)

# A transaction that takes locks against the one order (agents/lockorder.py) fails at once;
# on in the test suite, off in production (where the helpers only skip the bookkeeping).
LOCK_ORDER_CHECK = env.bool("LOCK_ORDER_CHECK", default=False)

# --- Security -------------------------------------------------------------------------
# HTTPS=1 in production turns on everything that only makes sense behind TLS; plain-HTTP
# local runs (the demo, tests) leave it off.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)  # also: whose address a lockout counts
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# The periodic sweeps' routine lines (sent, received, succeeded every 5 s) are dropped; a
# sweep that did something logs it itself (config/logfilters.py).
_QUIET_TASKS = {"()": "config.logfilters.QuietPeriodicTasks"}
_QUIET_TASKS["tasks"] = sorted(entry["task"] for entry in CELERY_BEAT_SCHEDULE.values())
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "quiet_periodic_tasks": _QUIET_TASKS,
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        # Django's own (its default logging): 5xx tracebacks by email to ADMINS, DEBUG off.
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        **{
            name: {"filters": ["quiet_periodic_tasks"]}
            for name in ("celery.beat", "celery.worker.strategy", "celery.app.trace")
        },
        # Django's own console handler (DEBUG) on top of the root's printed every 4xx twice:
        # the root's prints it once; errors are still emailed to ADMINS when it is set.
        "django": {"handlers": ["mail_admins"], "propagate": True},
        # Successful logins, logouts and unlocks (INFO) are not printed; failed logins and
        # lockouts are (WARNING), and the admin's Access attempts lists the failures.
        "axes": {"level": "WARNING"},
    },
}
# The demo serves everything from uvicorn (ASGI): Django reads WhiteNoise's static files and
# the CSV exports, which stream from plain iterators, in a thread, and says so in a warning on
# every one. Production serves the pages from gunicorn (WSGI), where this never happens.
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators"
)

# What the worker's code prints (the console email backend writes each email to stdout)
# goes to its log as INFO, not as Celery's default WARNING.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"

# --- The public API (/api/v1/, docs/api.md) ---------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerKeyThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 50,
}
# Requests per minute for one API key (429 with Retry-After above it).
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=1200)
# An Idempotency-Key's answer is replayed for this long.
API_IDEMPOTENCY_HOURS = env.int("API_IDEMPOTENCY_HOURS", default=24)
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": (
        "Contacts and their primary agent, timelines, interactions, agents and presence, "
        "reassignment and routing dry runs, contact centers, campaigns and leads. "
        "Authenticate with `Authorization: Bearer <API key>`; see docs/api.md."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_problems",
    ],
}

# --- Outbound webhooks (events/, docs/api.md "Events") ----------------------------------
# Endpoints on private, loopback or link-local addresses are refused unless allowed here
# (tests and local development allow loopback: WEBHOOK_ALLOW_LOOPBACK=1).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOK_ALLOW_LOOPBACK = env.bool("WEBHOOK_ALLOW_LOOPBACK", default=DEBUG)
# The ports an endpoint may use (any port on loopback when it is allowed, for tests' receivers).
WEBHOOK_ALLOWED_PORTS = env.list("WEBHOOK_ALLOWED_PORTS", cast=int, default=[80, 443, 8080, 8443])
# Only https:// endpoints (on behind TLS, off in local development and the tests).
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=HTTPS and not DEBUG)
# One request's time limit, all of it: connecting (at most 5 s), TLS, sending, the answer's
# headers and body. Redirects are never followed.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Retries: the wait doubles from the base up to the maximum (with jitter), for
# WEBHOOK_RETRY_FOR_SECONDS from the first try; then the delivery is given up (failed).
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=5.0)
WEBHOOK_RETRY_MAX_DELAY_SECONDS = env.float("WEBHOOK_RETRY_MAX_DELAY_SECONDS", default=3600.0)
WEBHOOK_RETRY_FOR_SECONDS = env.float("WEBHOOK_RETRY_FOR_SECONDS", default=86_400.0)
# An endpoint whose every delivery failed for this long is disabled; its admins are emailed.
WEBHOOK_DISABLE_AFTER_SECONDS = env.float("WEBHOOK_DISABLE_AFTER_SECONDS", default=86_400.0)
# One sender per endpoint holds a lease this long (renewed while it sends; never less than
# twice (WEBHOOK_TIMEOUT_SECONDS + 30 s), so it outlives any request); a sender run gives its
# worker back after WEBHOOK_SENDER_MAX_SECONDS (the sweep starts the next run).
WEBHOOK_LEASE_SECONDS = env.float("WEBHOOK_LEASE_SECONDS", default=90.0)
WEBHOOK_SENDER_MAX_SECONDS = env.float("WEBHOOK_SENDER_MAX_SECONDS", default=120.0)
# After Rotate secret, the replaced secret signs too (a second signature) for this long, so
# receivers can switch without refusing anything; 0: it stops signing at once.
WEBHOOK_SECRET_GRACE_SECONDS = env.float("WEBHOOK_SECRET_GRACE_SECONDS", default=86_400.0)
# Delivered or given-up deliveries, and the events nothing pending needs, are kept this long.
WEBHOOK_KEEP_DAYS = env.int("WEBHOOK_KEEP_DAYS", default=7)
