"""Live pages (docs/live.md), on Redis (channels-redis pub/sub):

1. 1,000 Lead Centers left open: the CPU of the ASGI server holding their sockets over 60 s,
   against the same 1,000 pages polling the live fragment every 4 s (gunicorn, 4 workers),
   measured in the same run;
2. 200 connected agents: from the webhook's answer to a text from one of an agent's contacts
   (routed to them, its owner, at their desk) to that agent's page updated (the message heard
   and the fragment fetched, as live.js does), p95;
3. the herd: one change to Active heard by the 200 pages, each refetching its fragment
   within the message's spread: how long until every page has updated (p95; reported).

Pages are simulated by this process (websockets and HTTP clients); only the servers' CPU
is counted. Data is built here, from an empty database.
"""

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.utils import timezone

from agents.live import live_changed, live_token, stream_active, stream_agent
from agents.middleware import SESSION_KEY as COMPANY_KEY
from agents.models import Agent, Company, Presence
from agents.services import company_set_webhook_token
from contacts.models import Contact

from .data import bulk_agents, bulk_contacts
from .measure import FULL, percentile, result, scaled
from .webhook import Served, _free_port

ROOT = Path(__file__).resolve().parent.parent
COMPANY = "Bench Live Co"
IDLE_PAGES = scaled(1000, minimum=10)
IDLE_SECONDS = 60 if FULL else 5
POLL_EVERY = 4.0  # seconds: the Lead Center's old poll
AGENTS = scaled(200, minimum=10)
EVENTS = scaled(200, minimum=10)
CPU_TARGET = 5.0  # % of one core
P95_TARGET = 500.0  # ms
TOKEN = "sbw_bench_live"  # noqa: S105 - the bench company's webhook token
TICKS = os.sysconf("SC_CLK_TCK")


# --- data ------------------------------------------------------------------------------------
def _build() -> tuple[Company, list[Agent], dict[int, str]]:
    company, _ = Company.objects.get_or_create(name=COMPANY, defaults={"time_zone": "UTC"})
    company_set_webhook_token(company=company, token=TOKEN)
    count = max(IDLE_PAGES, AGENTS)
    agents = bulk_agents(company, prefix="live", domain="bench-live.test", count=count)
    Agent.objects.filter(pk__in=[a.pk for a in agents]).update(
        presence=Presence.AVAILABLE, last_seen_at=timezone.now()
    )
    agents = list(Agent.objects.filter(pk__in=[a.pk for a in agents]).order_by("pk"))
    sessions = {}
    for agent in agents:
        store = SessionStore()
        store[SESSION_KEY] = str(agent.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = agent.get_session_auth_hash()
        store[COMPANY_KEY] = company.pk
        store.create()
        sessions[agent.pk] = store.session_key
    # Each of the first AGENTS agents: a few contacts of theirs, each with an open text in
    # their Mine (marked handled one by one in step 2).
    per_agent = max(1, EVENTS // AGENTS + 1)
    first = 1
    bulk_contacts(
        company,
        agent_ids=[a.pk for a in agents[:AGENTS]],
        first=first,
        last=AGENTS * per_agent,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_interaction (company_id, contact_id, channel, body, source,
                contact_center, status, pool, route_reason, route_details, idempotency_key,
                ring, request_hash, routed_to_id, created_at)
            SELECT company_id, id, 'text', 'hello', 'bench', '', 'open', '', 'Their contact.',
                   '{}'::jsonb, '', '[]'::jsonb, '', primary_agent_id, now()
            FROM contacts_contact WHERE company_id = %s
            """,
            [company.pk],
        )
    return company, agents, sessions


# --- processes -------------------------------------------------------------------------------
def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def _family(pid: int) -> list[int]:
    """``pid`` and its children (gunicorn's workers)."""
    pids = [pid]
    for child in Path("/proc").glob("[0-9]*"):
        try:
            if f"PPid:\t{pid}\n" in (child / "status").read_text():
                pids.append(int(child.name))
        except OSError:
            continue
    return pids


class Asgi:
    """uvicorn serving config.asgi (the live socket) on a free port, one process."""

    def __init__(self):
        self.port = _free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                f"--port={self.port}",
                "--host=127.0.0.1",
                "--log-level=warning",
                "--lifespan=off",
                "--ws=websockets-sansio",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login/", timeout=2)  # noqa: S310
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.2)

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --- simulated pages -------------------------------------------------------------------------
class Pages:
    """Lead Centers with a socket each, in an event loop of this process's own thread."""

    def __init__(self, *, asgi_port: int, http_port: int, company: Company, sessions: dict):
        self.asgi_port, self.http_port = asgi_port, http_port
        self.company, self.sessions = company, sessions
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sockets: dict[int, object] = {}
        self.waiters: dict[int, asyncio.Future] = {}
        self.fetch_on_active = False
        self.active_done: list[float] = []
        self.active_sent_at = 0.0

    def run(self, coroutine, timeout=600):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _open(self, agent, token):
        from websockets.asyncio.client import connect

        cookie = f"sessionid={self.sessions[agent.pk]}"
        socket = await connect(
            f"ws://127.0.0.1:{self.asgi_port}/live/",
            additional_headers={"Cookie": cookie},
            origin=f"http://127.0.0.1:{self.asgi_port}",
            open_timeout=60,
            ping_interval=None,  # the server pings; an idle page sends nothing of its own
        )
        await socket.send(json.dumps({"watch": [token]}))
        answer = json.loads(await socket.recv())
        assert "watching" in answer, answer
        self.sockets[agent.pk] = socket
        self.loop.create_task(self._listen(agent.pk, socket))

    async def open_all(self, agents, tokens):
        for start in range(0, len(agents), 50):
            chunk = agents[start : start + 50]
            await asyncio.gather(*(self._open(a, tokens[a.pk]) for a in chunk))

    async def _listen(self, agent_id, socket):
        active = stream_active(self.company.pk)
        try:
            async for raw in socket:
                message = json.loads(raw)
                if message.get("stream") == stream_agent(agent_id):
                    waiter = self.waiters.pop(agent_id, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(time.perf_counter())
                elif message.get("stream") == active and self.fetch_on_active:
                    self.loop.create_task(self._herd_fetch(agent_id, message.get("spread", 0)))
        except Exception:  # noqa: BLE001, S110 - closed at the end of the run
            pass

    def fetch(self, agent_id: int) -> None:
        """The page's refetch of its fragment, as live.js does on a message."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}/lead-center/live/?tab=mine",
            headers={"Cookie": f"sessionid={self.sessions[agent_id]}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
            assert response.status == 200

    async def _herd_fetch(self, agent_id, spread):
        await asyncio.sleep(random.random() * spread / 1000)  # noqa: S311 - live.js's jitter
        await self.loop.run_in_executor(None, self.fetch, agent_id)
        self.active_done.append(time.perf_counter() - self.active_sent_at)

    def expect(self, agent_id: int) -> asyncio.Future:
        future = self.loop.create_future()
        self.waiters[agent_id] = future
        return future

    async def _close(self):
        await asyncio.gather(*(s.close() for s in self.sockets.values()), return_exceptions=True)

    def close(self):
        self.run(self._close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


# --- the steps -------------------------------------------------------------------------------
def _idle_cpu(asgi: Asgi) -> float:
    pids = _family(asgi.process.pid)
    before = _cpu_seconds(pids)
    time.sleep(IDLE_SECONDS)
    return (_cpu_seconds(pids) - before) / IDLE_SECONDS * 100


def _polling_cpu(http: Served, agents, sessions) -> tuple[float, float]:
    """CPU of gunicorn while every page asks for its fragment every 4 s (open loop, each
    page's first ask at a random moment of the first 4 s); returns (% of one core,
    fragments answered per second)."""
    pids = _family(http.process.pid)
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + IDLE_SECONDS
    schedule = sorted(
        (random.uniform(0, POLL_EVERY) + k * POLL_EVERY, a.pk)  # noqa: S311
        for a in agents
        for k in range(int(IDLE_SECONDS / POLL_EVERY) + 1)
    )

    def page_loop(items):
        for at, agent_id in items:
            wait = start + at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if time.monotonic() >= stop:
                return
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{http.port}/lead-center/live/?tab=mine",
                    headers={"Cookie": f"sessionid={sessions[agent_id]}"},
                )
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    response.read()
                with lock:
                    done[0] += 1
            except OSError:
                pass

    threads_n = 64
    lanes = [schedule[i::threads_n] for i in range(threads_n)]
    before = _cpu_seconds(pids)
    start = time.monotonic()
    threads = [threading.Thread(target=page_loop, args=(lane,)) for lane in lanes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    return (_cpu_seconds(pids) - before) / elapsed * 100, done[0] / elapsed


def _text(port: int, phone: str, n: int) -> dict:
    """POST one text to the inbound webhook; its answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/inbound/",
        data=json.dumps({"channel": "text", "phone": phone, "body": f"live {n}"}).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"live-{time.time_ns()}-{n}",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our server
        assert response.status == 201, response.status
        return json.loads(response.read())


def _latency(pages: Pages, http: Served, company, agents, sessions) -> list[float]:
    """Webhook answer → the owner's page updated (ms) for EVENTS texts, about 5 a second."""
    # (everyone at their desk for the whole step: the texts go to their owners)
    Agent.objects.filter(pk__in=[a.pk for a in agents]).update(
        presence=Presence.AVAILABLE, last_seen_at=timezone.now() + timedelta(hours=1)
    )
    contacts = list(
        Contact.objects.filter(company=company, primary_agent__isnull=False)
        .order_by("pk")
        .values_list("phone", "primary_agent_id")[:EVENTS]
    )
    samples = []
    for n, (phone, agent_id) in enumerate(contacts):
        future = pages.run(_make_future(pages, agent_id))
        answer = _text(http.port, phone, n)
        answered = time.perf_counter()
        assert answer["routed_to"] is not None, answer
        # the page hears its stream, then fetches its fragment (live.js: no spread for an
        # agent's own stream)
        asyncio.run_coroutine_threadsafe(_wait(future), pages.loop).result(30)
        pages.fetch(agent_id)
        samples.append((time.perf_counter() - answered) * 1000)
        time.sleep(0.2)
    return samples


async def _make_future(pages, agent_id):
    return pages.expect(agent_id)


async def _wait(future):
    return await asyncio.wait_for(future, 30)


def _herd(pages: Pages, company, agents, sessions, http: Served) -> list[float]:
    """One change to Active: every page refetches within its spread; ms to each."""
    pages.active_done = []
    pages.fetch_on_active = True
    pages.active_sent_at = time.perf_counter()
    live_changed(company_id=company.pk, streams=[stream_active(company.pk)])
    deadline = time.monotonic() + 60
    while len(pages.active_done) < len(pages.sockets) and time.monotonic() < deadline:
        time.sleep(0.05)
    pages.fetch_on_active = False
    return [s * 1000 for s in pages.active_done]


def run() -> list[dict]:
    if connection.vendor != "postgresql":
        print("   skipped: the live pages are measured on PostgreSQL")
        return []
    if not settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis"):
        print("   skipped: the live pages are measured on Redis (set REDIS_URL)")
        return []
    os.environ.setdefault("LIVE_CHANNEL_PREFIX", settings.LIVE_CHANNEL_PREFIX)
    company, agents, sessions = _build()
    tokens = {
        a.pk: live_token(
            user=a, company_id=company.pk, streams=[stream_agent(a.pk), stream_active(company.pk)]
        )
        for a in agents
    }
    rows = []
    asgi = Asgi()
    try:
        with Served(settings="config.settings", workers=4) as http:
            http.answering(path="/login/")
            # 1. idle sockets vs polling, same run
            pages = Pages(
                asgi_port=asgi.port, http_port=http.port, company=company, sessions=sessions
            )
            pages.run(pages.open_all(agents[:IDLE_PAGES], tokens))
            time.sleep(2)
            idle = _idle_cpu(asgi)
            polling, answered = _polling_cpu(http, agents[:IDLE_PAGES], sessions)
            rows.append(
                result(
                    f"live: {IDLE_PAGES:,} idle Lead Centers, server CPU over {IDLE_SECONDS} s "
                    f"(polling every 4 s, same run: {polling:.0f}% of a core, "
                    f"{answered:.0f} fragments/s answered)",
                    idle,
                    "% of a core",
                    f"≤ {CPU_TARGET:.0f}% of a core",
                    None,
                    idle <= CPU_TARGET,
                )
            )
            pages.close()
            # 2. answer → page updated, 200 agents connected
            pages = Pages(
                asgi_port=asgi.port, http_port=http.port, company=company, sessions=sessions
            )
            pages.run(pages.open_all(agents[:AGENTS], tokens))
            samples = _latency(pages, http, company, agents, sessions)
            p95 = percentile(samples, 95)
            rows.append(
                result(
                    f"live: a text's webhook answer → its owner's page updated, "
                    f"{AGENTS} agents connected, {len(samples)} changes (p95; median "
                    f"{statistics.median(samples):.0f} ms)",
                    p95,
                    "ms",
                    f"≤ {P95_TARGET:.0f} ms",
                    None,
                    p95 <= P95_TARGET,
                )
            )
            # 3. the herd
            herd = _herd(pages, company, agents, sessions, http)
            rows.append(
                result(
                    f"live: one change to Active, {len(pages.sockets)} pages refetch within "
                    f"the 1 s spread: until each page updated (p95; all {len(herd)} by "
                    f"{max(herd or [0]):.0f} ms)",
                    percentile(herd, 95) if herd else float("inf"),
                    "ms",
                    "reported (no target)",
                    None,
                    len(herd) == len(pages.sockets),
                )
            )
            pages.close()
    finally:
        asgi.close()
    return rows
