import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from agents.models import AccessLevel
from tests.factories import PASSWORD, AgentFactory, CompanyFactory

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


# --- Parallel runs (pytest -n, pytest-xdist) ----------------------------------------------------
# Each xdist worker gets its own test database (pytest-django adds _gw0, _gw1... to the name)
# and, here, its own Redis database: worker gwN uses REDIS_URL's database number + N (mod
# 16). One Redis database shared by two workers would mix their Celery queues (a real worker
# started by one test would take the other's tasks, on the other's test database), their rate
# limit counters, and the API tests' cache.clear() (FLUSHDB) would empty the other's queue.
# The settings are read before this file is imported, so they are overridden here, and the
# environment too, for the workers and servers that tests start as subprocesses.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "" outside xdist, "gw0", "gw1"...


def worker_redis_url(url: str, worker: str = XDIST_WORKER) -> str:
    """``url`` with the database number this xdist worker uses (``url`` itself outside
    xdist and on gw0)."""
    from urllib.parse import urlsplit, urlunsplit

    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    if not url or index == 0:
        return url
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(db + index) % 16}"))


def _redis_per_worker() -> None:
    from django.conf import settings
    from django.test import override_settings

    url = worker_redis_url(os.environ.get("REDIS_URL", ""))
    if not url or url == os.environ["REDIS_URL"]:
        return
    os.environ["REDIS_URL"] = url
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    for config in caches.values():
        if config["BACKEND"].endswith("RedisCache"):
            config["LOCATION"] = url
    # enable(): the setting_changed signal rebuilds the cache handler (django.test.signals).
    override_settings(
        REDIS_URL=url, CACHES=caches, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url
    ).enable()
    from config.celery import app as celery_app

    celery_app.conf.broker_url = url
    celery_app.conf.result_backend = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)


_redis_per_worker()


# --- Tests that need real services ---------------------------------------------------------
def _redis_missing() -> str | None:
    url = os.environ.get("REDIS_URL")
    if not url:
        return "needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379/1)"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001 - any failure means "not usable here"
        return f"needs Redis at {url}: {error}"
    return None


def _browser_missing() -> str | None:
    if not shutil.which("chromium"):
        return "needs the system Chromium (apt-get install -y chromium)"
    return None


def _missing(item: pytest.Item) -> str:
    reasons = []
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        reasons.append("needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("redis"):
        reasons.append(_redis_missing())
    if item.get_closest_marker("browser"):
        reasons.append(_browser_missing())
    return "; ".join(r for r in reasons if r)


# The longest tests (each starts servers, workers or a fresh database: 10-70 s) run first, so
# that under -n the other workers fill in around them instead of one worker ending the run
# alone on them. Same order in every worker (xdist requires it); order otherwise unchanged.
RUN_FIRST = (
    "tests/api/test_demo_key.py::test_make_run_prints_the_demo_key",
    "tests/test_run_demo.py",
    "tests/contacts/test_capacity_concurrency.py",
    "tests/campaigns/test_migrations.py",
    "tests/test_celery_worker.py",
    "tests/events/test_receiver_integration.py",
    "tests/test_broker_restart.py",
    "tests/routing/test_deadlines_worker.py",
    "tests/routing/test_real_rounds.py",
    "tests/test_deploy.py",
)


def _run_first_rank(item: pytest.Item) -> int:
    return next(
        (rank for rank, prefix in enumerate(RUN_FIRST) if item.nodeid.startswith(prefix)),
        len(RUN_FIRST),
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_run_first_rank)  # stable: the rest keep their order
    # Skip at collection, so the report names the test, not this file.
    if os.environ.get("CI"):
        return
    for item in items:
        reason = _missing(item)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = _missing(item)
    if reason and os.environ.get("CI"):
        pytest.fail("Under CI nothing may skip: " + reason, pytrace=False)


# --- Live pages ------------------------------------------------------------------------------
@pytest.fixture
def live_sent(monkeypatch):
    """Every (company id, stream) that ``agents.live.publish`` sent, in order; nothing is sent
    anywhere (``tests/live_pages/conftest.py``'s ``published`` keeps one list per commit)."""
    from agents import live

    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(live, "publish", lambda keys: sent.extend(keys))
    return sent


# --- People and companies --------------------------------------------------------------------
@pytest.fixture
def company(db):
    return CompanyFactory(name="Acme")


@pytest.fixture
def other_company(db):
    return CompanyFactory(name="Globex")


def _person(level, company, **kwargs):
    return AgentFactory(access_level=level, companies=[company], **kwargs)


@pytest.fixture
def company_admin(company):
    return _person(AccessLevel.ADMIN, company, email="admin@acme.test", full_name="Ada Admin")


@pytest.fixture
def supervisor(company):
    return _person(AccessLevel.SUPERVISOR, company, email="sup@acme.test", full_name="Sue Visor")


@pytest.fixture
def agent(company):
    return _person(AccessLevel.AGENT, company, email="agent@acme.test", full_name="Andy Agent")


@pytest.fixture
def leads_agent(company):
    return _person(AccessLevel.LEADS_AGENT, company, email="leads@acme.test", full_name="Lea Leads")


@pytest.fixture
def other_admin(other_company):
    return _person(
        AccessLevel.ADMIN, other_company, email="admin@globex.test", full_name="Gus Globex"
    )


@pytest.fixture
def login(client):
    """Log ``client`` in as the given agent and return it."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


# --- Browser ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _chromium():
    if _browser_missing():
        pytest.skip(_browser_missing())
    # Playwright's sync API runs an event loop in this thread; the ORM calls that tests make
    # between page actions are still plain synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(_chromium, live_server):
    """Open a page in a browser context of its own (its own cookies: one person each)."""
    contexts = []

    def _new_page():
        context = _chromium.new_context(
            viewport={"width": 1366, "height": 860}, base_url=live_server.url
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def screenshot(request):
    """Save a full-page screenshot to var/screenshots/<name>.png and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _shot(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


def browser_login(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


# --- A real Celery worker --------------------------------------------------------------------
ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def start_worker(tmp_path):
    """Start ``celery worker`` processes on the test database (PostgreSQL) and Redis; they
    are killed at the end. ``beat=True`` runs the periodic sweeps too. Tasks sent from the
    test go through Redis to them (not eagerly). Each runs in a process group of its own
    (its embedded beat is a child process): ``os.killpg(worker.pid, …)`` kills all of it, as
    the teardown does — a worker killed alone left its beat behind, sending sweeps for the
    rest of the run."""
    from config.celery import app as celery_app

    processes: list[subprocess.Popen] = []
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False

    def _start(*, beat: bool = False) -> subprocess.Popen:
        n = len(processes)
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            f"--logfile={tmp_path / f'worker{n}.log'}",
            f"--hostname=test{n}-{XDIST_WORKER or 'main'}@%h",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ]
        if beat:
            args += ["--beat", f"--schedule={tmp_path / f'beat{n}'}"]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": _database_url(),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_URL": "consolemail://",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        processes.append(process)
        return process

    yield _start
    celery_app.conf.task_always_eager = was_eager
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue  # the whole group is gone already
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever is left of it (its beat)


# --- No request of the suite answers 500 ------------------------------------------------------
@pytest.fixture(autouse=True)
def _no_server_errors():
    """Fail a test during which any request (test client or the browser tests' live server)
    ended in an unhandled exception, i.e. a 500 for whoever sent it."""
    from django.core.signals import got_request_exception

    seen: list[str] = []

    def record(sender, request=None, **kwargs):
        seen.append(f"{getattr(request, 'method', '?')} {getattr(request, 'path', '?')}")

    got_request_exception.connect(record, weak=False, dispatch_uid="tests.no_server_errors")
    yield
    got_request_exception.disconnect(dispatch_uid="tests.no_server_errors")
    assert not seen, f"these requests answered 500: {seen}"


# --- Celery's "inside a task" flag starts each test off ------------------------------------------
@pytest.fixture(autouse=True)
def _celery_join_allowed():
    """Celery marks "inside a task" (``result.get()`` refused) in one global, set and restored
    around each eager task: two threads running eager tasks at once (a test and the browser
    tests' in-process server) can restore it in the wrong order and leave it set, failing a
    later test's ``.get()`` on the same xdist worker. Each test starts outside any task."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


# --- The suite leaves no files in var/ ---------------------------------------------------------
@pytest.fixture(autouse=True)
def _var_dir_in_a_temporary_folder(settings, tmp_path_factory):
    """Uploaded contact lists and import progress files (read under ``VAR_DIR`` when used,
    ``campaigns.uploads`` / ``campaigns.progress``) go to this run's temporary folder."""
    settings.VAR_DIR = tmp_path_factory.getbasetemp() / "var"


# --- A broker of the test's own ---------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def point_celery_at():
    """``point_celery_at(url)``: this process sends tasks to (and reads results from) the
    Redis at ``url``, not eagerly, until the test ends."""
    from config.celery import app as celery_app

    saved = (
        celery_app.conf.broker_url,
        celery_app.conf.result_backend,
        celery_app.conf.task_always_eager,
    )

    def _forget_connections():
        # Dropped, not closed: kombu keeps the pools by URL and hands the same ones out again.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        celery_app._backend_cache = None
        celery_app._local.__dict__.pop("backend", None)

    def _point(url: str) -> None:
        _forget_connections()
        celery_app.conf.broker_url = url
        celery_app.conf.result_backend = url
        celery_app.conf.task_always_eager = False

    yield _point
    _forget_connections()
    (
        celery_app.conf.broker_url,
        celery_app.conf.result_backend,
        celery_app.conf.task_always_eager,
    ) = saved


class OwnRedis:
    """A redis-server of the test's own on a free port, keeping nothing on disk."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """``kill -9``: no shutdown, no save."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    if not shutil.which("redis-server"):
        reason = "needs redis-server on the PATH (apt-get install -y redis-server)"
        if os.environ.get("CI"):
            pytest.fail("Under CI nothing may skip: " + reason, pytrace=False)
        pytest.skip(reason)
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.kill()
