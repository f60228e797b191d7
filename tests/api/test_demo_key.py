"""The demo's API key: ``seed_demo`` makes one with every scope for Northwind Realty, prints it
with a ``curl`` line that works, keeps it across runs, never a string shared by installations;
``make run`` (bin/run-demo) prints it too. The demo registers no outbound endpoint."""

import contextlib
import os
import re
import shlex
import signal
import stat
import subprocess
import sys
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from agents.models import Company
from api.keys import api_key_revoke
from api.models import ApiKey
from demo.api import seed_demo_api_key
from demo.management.commands.seed_demo import DEMO_COMPANY
from events.models import Endpoint
from tests.test_run_demo import (
    ROOT,
    _free_port,
    _running_in_session,
    _wait_for,
    kill_leftovers,
    start_demo,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_file(tmp_path, monkeypatch, settings):
    settings.DEBUG = True
    path = tmp_path / "demo-api-key"
    monkeypatch.setenv("DEMO_API_KEY_FILE", str(path))
    return path


def _seed(capsys) -> str:
    call_command("seed_demo")
    return capsys.readouterr().out


def _printed_key(out: str) -> str:
    return re.search(r"API key of Northwind Realty \(every scope[^)]*\): (\S+)", out).group(1)


def _curl_from(out: str) -> list[str]:
    line = next(line.strip() for line in out.splitlines() if line.strip().startswith("curl -H"))
    return shlex.split(line)


def test_seed_demo_prints_a_key_of_every_scope_and_a_curl_line_that_lists_contacts(
    key_file, capsys
):
    # when the demo is loaded
    out = _seed(capsys)
    # then it prints the key, kept in the file, stored only as its hash
    raw = _printed_key(out)
    assert key_file.read_text().strip() == raw
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    key = ApiKey.objects.get(key_hash=ApiKey.hash(raw))
    assert key.company.name == DEMO_COMPANY
    assert key.scopes == ["read", "write", "routing"]
    assert key.created_by.email == "admin@northwind.test"
    # and the curl line's request lists five of the company's contacts
    curl = _curl_from(out)
    header = curl[curl.index("-H") + 1]
    url = curl[-1]
    assert header == f"Authorization: Bearer {raw}"
    address = urlsplit(url)
    response = APIClient().get(
        f"{address.path}?{address.query}", HTTP_AUTHORIZATION=header.split(": ", 1)[1]
    )
    assert response.status_code == 200
    assert len(response.json()["results"]) == 5


def test_a_second_run_keeps_the_working_key(key_file, capsys):
    # given a first run's key
    first = _printed_key(_seed(capsys))
    # when the demo is loaded again
    second = _printed_key(_seed(capsys))
    # then it is the same key, still the only one, still working
    assert second == first
    assert ApiKey.objects.count() == 1
    assert ApiKey.objects.get().is_usable()


def test_a_revoked_demo_key_is_replaced_not_brought_back(key_file, capsys):
    # given the demo's key, revoked by the company's admin
    first = _printed_key(_seed(capsys))
    api_key_revoke(key=ApiKey.objects.get(key_hash=ApiKey.hash(first)))
    # when the demo is loaded again
    second = _printed_key(_seed(capsys))
    # then a new key works and the old one stays revoked
    assert second != first
    assert ApiKey.objects.get(key_hash=ApiKey.hash(second)).is_usable()
    assert not ApiKey.objects.get(key_hash=ApiKey.hash(first)).is_usable()
    assert key_file.read_text().strip() == second


def test_each_installation_gets_its_own_key(key_file, tmp_path, monkeypatch, capsys):
    # given one installation's key (the same SECRET_KEY, the built-in one, on both)
    first = _printed_key(_seed(capsys))
    # when another installation (its own var/, its own database) loads the demo
    ApiKey.objects.all().delete()
    monkeypatch.setenv("DEMO_API_KEY_FILE", str(tmp_path / "elsewhere" / "demo-api-key"))
    second = _printed_key(_seed(capsys))
    # then its key is another one
    assert second != first and second.startswith("sbk_")


def test_a_kept_key_works_again_on_a_new_database(key_file, capsys):
    # given a kept key whose database was deleted
    first = _printed_key(_seed(capsys))
    ApiKey.objects.all().delete()
    # when the demo is loaded into the new database
    second = _printed_key(_seed(capsys))
    # then the printed key (the kept one) works
    assert second == first
    assert ApiKey.objects.get(key_hash=ApiKey.hash(first)).company.name == DEMO_COMPANY


def test_the_demo_registers_nothing_outbound(key_file, capsys):
    # when
    _seed(capsys)
    # then no endpoint, and no event type is written to the outbox
    assert not Endpoint.objects.exists()
    assert Company.objects.get(name=DEMO_COMPANY).outbound_event_types in ([], None)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc (Linux)")
@pytest.mark.django_db(transaction=True)
def test_make_run_prints_the_demo_key_and_its_curl_line_works(tmp_path):
    # given the demo loaded into its own SQLite file, with its key in its own file
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
        "DEMO_API_KEY_FILE": str(tmp_path / "demo-api-key"),
        "PORT": str(port),
        "SITE_URL": f"http://127.0.0.1:{port}",
    }
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=180,
        )
    out = tmp_path / "run-demo.out"
    with out.open("w") as sink:
        demo = start_demo(env, stdout=sink, stderr=sink)
    try:
        # when it is running
        _wait_for(lambda: "curl -H" in out.read_text(), 30, "the banner")
        text = out.read_text()
        # then it prints the kept key and one curl line, which lists contacts
        raw = (tmp_path / "demo-api-key").read_text().strip()
        assert f"(every scope): {raw}" in text
        curl = _curl_from(text)
        request = urllib.request.Request(curl[-1], headers=dict([curl[2].split(": ", 1)]))

        def answers() -> bool:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    answers.body = response.read()
                    return response.status == 200
            except OSError:
                return False

        _wait_for(answers, 30, "the API to answer")
        assert b'"results"' in answers.body
    finally:
        try:
            with contextlib.suppress(ProcessLookupError):  # (gone already: nothing to press)
                os.killpg(demo.pid, signal.SIGINT)
            _wait_for(
                lambda: demo.poll() is not None and not _running_in_session(demo.pid),
                15,
                "bin/run-demo to stop after Ctrl-C",
                still=lambda: _running_in_session(demo.pid),
            )
        finally:
            kill_leftovers(demo)


def test_the_kept_key_file_is_made_owner_only_even_if_it_was_left_readable(key_file, company):
    # given a key file left readable by everyone (0644), holding no working key
    key_file.write_text("edited by hand\n")
    key_file.chmod(0o644)
    # when the demo key is made
    raw, made = seed_demo_api_key(company, None)
    # then the file holds it, readable by its owner only
    assert made
    assert key_file.read_text() == raw + "\n"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_kept_key_is_never_written_through_a_symlink(key_file, tmp_path, company):
    # given the key file's name is a symlink to another file
    victim = tmp_path / "elsewhere"
    victim.write_text("someone else's file\n")
    victim.chmod(0o644)
    key_file.symlink_to(victim)
    # when the demo key is made
    raw, _ = seed_demo_api_key(company, None)
    # then the other file is untouched; the key is in a file of its own, owner only
    assert victim.read_text() == "someone else's file\n"
    assert not key_file.is_symlink()
    assert key_file.read_text() == raw + "\n"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-api-key", "elsewhere"]
