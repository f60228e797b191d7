"""Servers for the live pages' tests: the real ASGI application (config/asgi.py) under
uvicorn, in a thread of the test process (it shares the test database, SQLite included) or
in processes of their own (PostgreSQL: they see what the test commits), on a channel layer
of the test's own (Redis pub/sub under a prefix nobody else uses)."""

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import uvicorn
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connection
from django.test import Client
from websockets.sync.client import connect

from tests.conftest import ROOT, free_port


def redis_layer(url: str, prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": prefix},
        }
    }


@pytest.fixture
def live_prefix():
    """Redis pub/sub ignores the db number: every test hears only its own channels."""
    return f"test.{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_live(settings, live_prefix):
    """The live pages on Redis (REDIS_URL), for this test only."""
    settings.CHANNEL_LAYERS = redis_layer(os.environ["REDIS_URL"], live_prefix)
    return settings.CHANNEL_LAYERS


class ThreadServer:
    """uvicorn serving config.asgi (static files too) in a thread; stop and start again on
    the same port (a restart, as the pages see it)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/live/"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> "ThreadServer":
        from config.asgi import application

        config = uvicorn.Config(
            ASGIStaticFilesHandler(application),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            # Open sockets are closed, not waited for (a restart, as the pages see it).
            self.server.force_exit = True
            self.thread.join(timeout=10)
            self.server = None


@pytest.fixture
def asgi_server(transactional_db):
    """``asgi_server()``: a started ThreadServer (stopped at the end)."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    servers: list[ThreadServer] = []

    def _start(port: int | None = None) -> ThreadServer:
        server = ThreadServer(port).start()
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def open_socket(server_ws_url: str, *, cookie: str | None, origin: str):
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    return connect(server_ws_url, additional_headers=headers, origin=origin, open_timeout=5)


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class ProcessServer:
    """``uvicorn config.asgi:application`` in a process of its own (PostgreSQL: it reads what
    the test committed)."""

    def __init__(self, *, prefix: str, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/live/"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": _database_url(),
            "LIVE_CHANNEL_PREFIX": prefix,
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host=127.0.0.1",
                f"--port={self.port}",
                "--log-level=warning",
                "--lifespan=off",
                "--ws=websockets-sansio",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        import socket

        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn did not start: see {log}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@pytest.fixture
def process_server(transactional_db, tmp_path, live_prefix):
    servers: list[ProcessServer] = []

    def _start() -> ProcessServer:
        server = ProcessServer(prefix=live_prefix, log=tmp_path / f"uvicorn{len(servers)}.log")
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()
