"""The webhook under load: gunicorn on this machine, a paced open-loop client."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    # A port of our own: another benchmark (or a second checkout's) may be serving on 8765.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def webhook_load(
    *, token: str, payload: Callable[[int], dict], rate: int, seconds: int
) -> tuple[list[float], float]:
    """Serve with gunicorn and POST ``payload(n)`` to the webhook ``rate`` times a second for
    ``seconds``; return the latencies (ms, inf for a failure) and the workers' peak RSS (MiB)."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def send(n: int) -> None:
            body = json.dumps(payload(n)).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/inbound/",
                data=body,
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    response.read()
                    ok = response.status == 201
            except OSError as error:
                ok = False
                errors.append(str(error))
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed if ok else float("inf"))

        for n in range(20):  # warm every worker's connection
            send(n)
        latencies.clear()
        threads = []
        start = time.perf_counter()
        for n in range(rate * seconds):
            due = start + n / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            thread = threading.Thread(target=send, args=(1000 + n,))
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        rss = 0.0
        for child in Path(f"/proc/{server.pid}/task").parent.parent.glob("[0-9]*"):
            try:
                status = (child / "status").read_text()
            except OSError:
                continue
            if f"PPid:\t{server.pid}" in status:
                hwm = [line for line in status.splitlines() if line.startswith("VmHWM")]
                if hwm:
                    rss = max(rss, int(hwm[0].split()[1]) / 1024)
        if errors:
            print(f"   {len(errors)} webhook errors, e.g. {errors[0]}")
        return latencies, rss
    finally:
        server.terminate()
        server.wait(timeout=20)
