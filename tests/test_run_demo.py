"""`make run`'s bin/run-demo: Ctrl-C stops the web server, the worker and all their children."""

import contextlib
import functools
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from demo.management.commands.seed_demo import DEMO_COMPANY

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _running_in_session(session: int) -> list[str]:
    """Processes (not zombies) of the session bin/run-demo was started in: the script, the
    worker, its pool and beat, runserver, whatever process group each one is in."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        state, _ppid, _pgrp, sid = text[text.rindex(")") + 2 :].split()[:4]
        if int(sid) == session and state != "Z":
            found.append(f"{stat.parent.name} {name} ({state})")
    return found


def _wait_for(check, seconds: float, what: str, still=None) -> None:
    """Until ``check()`` holds, at most ``seconds``; giving up says ``what``, and what
    ``still()`` returns then (what was left running)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            left = f"; still running: {still()}" if still else ""
            raise AssertionError(f"gave up waiting for {what}{left}")
        time.sleep(0.2)


def _serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_demo(env: dict, **popen) -> subprocess.Popen:
    """bin/run-demo in a session of its own, as a terminal would run it (Ctrl-C = SIGINT to
    its process group), with Ctrl-C's signals handled by default as a terminal's shell starts
    a foreground job (``env --default-signal``): a suite started as a background job of a
    shell without job control (a CI runner's) inherits SIGINT ignored, and bash can neither
    trap nor reset a signal ignored when it starts, so the script would never hear Ctrl-C."""
    return subprocess.Popen(
        ["env", "--default-signal=INT,QUIT", "bin/run-demo"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        **popen,
    )


def kill_leftovers(demo: subprocess.Popen) -> list[str]:
    """Whatever of the demo's session still runs, killed (so a failed test leaves nothing
    behind for the rest of the suite); returns what it was."""
    leftovers = _running_in_session(demo.pid)
    for line in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)
    demo.wait(timeout=10)
    return leftovers


def _ctrl_c(demo: subprocess.Popen) -> None:
    os.killpg(demo.pid, signal.SIGINT)  # what a terminal does: the whole foreground group


def _kill(demo: subprocess.Popen) -> None:
    demo.send_signal(signal.SIGTERM)  # `kill <pid>` from another shell, a process manager


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize(
    ("stop", "grace"),
    [
        (_ctrl_c, None),  # the default grace period: the worker's warm shutdown fits in it
        (_kill, "1"),  # too short for beat to stop: what is left is killed
    ],
    ids=["ctrl-c", "sigterm-then-kill"],
)
def test_run_demo_stops_the_server_the_worker_and_their_children_within_10_seconds(
    tmp_path, stop, grace
):
    # given the demo running on its own SQLite file and queue folder, on a free port
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "CELERY_FILESYSTEM_DIR": str(tmp_path / "celery"),
        "WORKER_LOG": str(tmp_path / "worker.log"),
        "BEAT_SCHEDULE": str(tmp_path / "beat"),
        "PORT": str(port),
    }
    if grace:
        env["GRACE_SECONDS"] = grace
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    demo = start_demo(env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _serves(port), 30, "the web server")
        log = tmp_path / "worker.log"
        _wait_for(lambda: log.exists() and "ready." in log.read_text(), 30, "the worker")
        assert len(_running_in_session(demo.pid)) >= 4  # script, runserver, worker, pool
        # when Ctrl-C is pressed (or the script is killed)
        pressed = time.monotonic()
        stop(demo)
        # then within 10 seconds nothing of it is left running
        _wait_for(
            lambda: demo.poll() is not None and not _running_in_session(demo.pid),
            10,
            "everything to stop",
            still=lambda: _running_in_session(demo.pid),
        )
        assert time.monotonic() - pressed < 10
        assert not _serves(port)
    finally:
        leftovers = kill_leftovers(demo)
    assert not leftovers, leftovers


def test_the_readmes_import_command_works_in_a_fresh_shell_against_the_demo(tmp_path):
    # given the README's command line, a small CSV and a database with the demo's company
    readme = (ROOT / "README.md").read_text()
    spans = [" ".join(s.split()) for s in re.findall(r"`([^`]*import_contact_list[^`]*)`", readme)]
    assert len(spans) == 1, spans
    command = spans[0]
    company = re.search(r'--company "([^"]+)"', command).group(1)
    assert company == DEMO_COMPANY
    csv = tmp_path / "spring.csv"
    csv.write_text("Name,Phone\nOlga Ivanova,+12025550180\nPaul Chen,+12025550181\n")
    # a fresh shell: none of the settings a developer may have exported
    fresh = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"}
    }
    fresh["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"  # the demo's file, elsewhere
    setup = {**fresh, "DEBUG": "1"}
    python = str(ROOT / ".venv" / "bin" / "python")
    run = functools.partial(subprocess.run, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run([python, "manage.py", "migrate", "-v0"], env=setup).returncode == 0
    made = run(
        [python, "manage.py", "shell", "-c", f"from agents.models import Company; "
         f"Company.objects.create(name={company!r})"],
        env=setup,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    # when the README's command runs, FILE replaced by the CSV
    result = run(["bash", "-c", command.replace("FILE", shlex.quote(str(csv)))], env=fresh)
    # then it imports the list
    assert result.returncode == 0, result.stderr
    assert "Loaded 2 rows into “spring”." in result.stdout, result.stdout
