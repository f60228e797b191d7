"""Imports whose run stopped (a worker or the command killed): the sweep queues them again or
fails them with a reason; *Retry* and *Discard*; orphan uploads removed; the command after a
Ctrl-C and after a kill."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from campaigns import recovery
from campaigns.importing import list_import_create
from campaigns.models import ContactList, ListImport, Record
from campaigns.tasks import sweep_list_imports
from campaigns.uploads import store_upload, upload_dir
from tests.campaigns.helpers import phone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_folder(settings, tmp_path):
    """An upload folder of this test's own (the suite's is shared by its tests)."""
    settings.VAR_DIR = tmp_path / "var"


S = ListImport.Status
DATA = "Name,Phone\n" + "".join(f"P{i},{phone(i)}\n" for i in range(5))


def _import(company, *, status=S.RUNNING, quiet=timedelta(minutes=10), name="Stopped", **fields):
    """An import of a stored file whose run was last heard from ``quiet`` ago."""
    path, _ = store_upload([DATA.encode()], name="list.csv")
    contact_list = ContactList.objects.create(company=company, name=name)
    made = list_import_create(contact_list=contact_list, path=Path(path), file_name="list.csv")
    then = timezone.now() - quiet
    fields.setdefault("attempts", 1 if status == S.RUNNING else 0)
    ListImport.objects.filter(pk=made.pk).update(
        status=status,
        created_at=then,
        started_at=then if status == S.RUNNING else None,
        heartbeat_at=then,
        **fields,
    )
    made.refresh_from_db()
    return made


def test_a_running_import_whose_worker_died_is_queued_again_and_loads_once(
    company, django_capture_on_commit_callbacks
):
    # given an import at 43 % whose worker stopped ten minutes ago
    stopped = _import(company, bytes_read=len(DATA) * 43 // 100)
    # when the sweep runs (and its queued task with it)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        done = sweep_list_imports()
    # then the import is queued again and loaded, once
    assert done["requeued"] == 1 and len(callbacks) == 1
    stopped.refresh_from_db()
    assert (stopped.status, stopped.rows_loaded, stopped.attempts) == (S.LOADED, 5, 2)
    assert Record.objects.of_list(stopped.contact_list_id).count() == 5


def test_an_import_that_stopped_on_every_run_is_failed_with_the_reason(company, settings):
    # given an import whose worker stopped at 43 % on its last allowed run
    settings.LIST_IMPORT_MAX_ATTEMPTS = 3
    stopped = _import(company, attempts=3, file_size=1000, bytes_read=430)
    # when the sweep runs
    done = recovery.list_imports_sweep()
    # then it is failed, saying where it stopped and what to do; its file kept for a retry
    stopped.refresh_from_db()
    assert done["failed"] == 1 and stopped.status == S.FAILED
    assert "The worker loading this file stopped at 43 % (3 runs)" in stopped.message
    assert "Retry it or discard it" in stopped.message
    assert Path(stopped.file_path).exists()


def test_a_queued_import_never_picked_up_is_queued_again(
    company, django_capture_on_commit_callbacks
):
    # given an import queued ten minutes ago whose message was lost (Redis restarted)
    lost = _import(company, status=S.QUEUED)
    # when the sweep runs
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        done = recovery.list_imports_sweep()
    # then it is queued again
    assert done["requeued"] == 1 and len(callbacks) == 1
    lost.refresh_from_db()
    assert lost.status == S.QUEUED and lost.heartbeat_at > timezone.now() - timedelta(minutes=1)


def test_a_running_import_with_a_recent_heartbeat_is_left_alone(company):
    alive = _import(company, quiet=timedelta(seconds=5), bytes_read=10)
    assert recovery.list_imports_sweep() == {"orphans": 0}
    alive.refresh_from_db()
    assert alive.status == S.RUNNING and alive.bytes_read == 10


def test_the_commands_import_whose_process_died_is_failed_not_queued(company):
    stopped = _import(company, in_worker=False, file_size=100, bytes_read=65)
    assert recovery.list_imports_sweep()["failed"] == 1
    stopped.refresh_from_db()
    assert stopped.status == S.FAILED
    assert stopped.message.startswith("The command loading this file stopped at 65 %")


def test_the_import_beats_its_heartbeat_while_it_loads(company):
    from tests.campaigns.helpers import load_list

    before = timezone.now()
    loaded = load_list(company, DATA)
    assert loaded.status == S.LOADED and loaded.heartbeat_at >= before


def test_orphan_uploads_older_than_an_hour_are_removed_and_others_kept(company):
    # given an upload no import refers to, an hour and a half old; a new one; an import's
    orphan, _ = store_upload([b"x"], name="a.csv")
    fresh, _ = store_upload([b"x"], name="b.csv")
    kept = _import(company, status=S.FAILED)
    old = time.time() - 5400
    for path in (orphan, Path(kept.file_path)):
        os.utime(path, (old, old))
    # when the sweep runs
    assert recovery.list_imports_sweep()["orphans"] == 1
    # then only the old orphan is gone
    assert not orphan.exists() and fresh.exists() and Path(kept.file_path).exists()


# --- Retry and Discard in the admin ----------------------------------------------------------
def test_the_admin_retries_a_failed_import_and_it_loads(
    login, company_admin, company, django_capture_on_commit_callbacks
):
    failed = _import(company, status=S.FAILED, message="The worker … stopped at 43 %")
    client = login(company_admin)
    page = client.get(failed.get_absolute_url())
    assert b'id="import-retry"' in page.content and b'id="import-discard"' in page.content
    url = reverse(
        "admin:campaigns_contactlist_import_retry", args=[failed.contact_list_id, failed.pk]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.rows_loaded, failed.message) == (S.LOADED, 5, "")


def test_the_admin_discards_a_stopped_first_import_with_its_list_and_file(
    login, company_admin, company, django_capture_on_commit_callbacks
):
    stopped = _import(company)
    client = login(company_admin)
    url = reverse(
        "admin:campaigns_contactlist_import_discard", args=[stopped.contact_list_id, stopped.pk]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert response.status_code == 200 and b"its name is free again" in response.content
    assert not ContactList.objects.exists() and not ListImport.objects.exists()
    assert not Path(stopped.file_path).exists()


def test_an_import_still_loading_cannot_be_discarded(login, company_admin, company):
    alive = _import(company, quiet=timedelta(seconds=1))
    client = login(company_admin)
    url = reverse(
        "admin:campaigns_contactlist_import_discard", args=[alive.contact_list_id, alive.pk]
    )
    response = client.post(url, follow=True)
    assert b"still loading" in response.content
    assert ListImport.objects.filter(pk=alive.pk, status=S.RUNNING).exists()


# --- The command --------------------------------------------------------------------------
def test_the_command_stopped_by_ctrl_c_keeps_no_list_and_no_file(company, tmp_path, monkeypatch):
    path = tmp_path / "list.csv"
    path.write_text(DATA)

    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(
        "campaigns.management.commands.import_contact_list.list_import_run", interrupted
    )
    with pytest.raises(CommandError, match="Stopped at 0 %: nothing was loaded"):
        call_command("import_contact_list", str(path), company="Acme", name="Cut")
    assert not ContactList.objects.exists() and not ListImport.objects.exists()
    assert not list(upload_dir().glob("list-*"))


def test_the_command_run_again_replaces_the_list_a_killed_run_left(company, tmp_path, capsys):
    # given the list a killed run left: its import running, silent for ten minutes
    left = _import(company, name="Spring", in_worker=False)
    path = tmp_path / "spring.csv"
    path.write_text(DATA)
    # when the command runs again with the same name
    call_command("import_contact_list", str(path), company="Acme", name="Spring")
    # then the stopped list (and its file) is replaced by the loaded one
    out = capsys.readouterr().out
    assert "Replaced “Spring”" in out and "Loaded 5 rows" in out
    assert ContactList.objects.get(name="Spring").rows == 5
    assert not ListImport.objects.filter(pk=left.pk).exists()


def test_the_command_refuses_a_name_whose_import_is_still_running(company, tmp_path):
    _import(company, name="Spring", in_worker=False, quiet=timedelta(seconds=1))
    path = tmp_path / "spring.csv"
    path.write_text(DATA)
    with pytest.raises(CommandError, match="still loading"):
        call_command("import_contact_list", str(path), company="Acme", name="Spring")


# --- A real kill --------------------------------------------------------------------------
def _settings_module(folder: Path, var_dir: Path) -> str:
    (folder / "killed_settings.py").write_text(
        "from config.settings import *  # noqa\n"
        f"VAR_DIR = __import__('pathlib').Path({str(var_dir)!r})\n"
    )
    return "killed_settings"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_command_killed_mid_import_is_failed_by_the_sweep_and_can_run_again(
    company, tmp_path, settings
):
    # given a command loading a generated file of 300,000 rows in a process of its own
    rows = "".join(f"Person {i},{phone(i)},x{i % 97}\n" for i in range(300_000))
    path = tmp_path / "big.csv"
    path.write_text("Name,Phone,Note\n" + rows)
    module = _settings_module(tmp_path, Path(settings.VAR_DIR))
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": module}
    env["PYTHONPATH"] = f"{tmp_path}{os.pathsep}{Path(__file__).resolve().parents[2]}"
    command = [sys.executable, "manage.py", "import_contact_list", str(path)]
    process = subprocess.Popen(
        [*command, "--company", "Acme", "--name", "Big"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # when it is killed with SIGKILL part of the way through
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            running = ListImport.objects.filter(status=S.RUNNING, bytes_read__gt=0).first()
            if running is not None or process.poll() is not None:
                break
            time.sleep(0.05)
        assert running is not None, process.stderr.read().decode()[-2000:]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    # then it stays running until the sweep finds it stopped, and fails it with the reason
    running.refresh_from_db()
    assert running.status == S.RUNNING and 0 < running.percent < 100
    # (PostgreSQL releases the killed session's lock once it has seen the connection close:
    # the sweep, every minute, leaves the list alone until then)
    deadline = time.monotonic() + 20
    while True:
        done = recovery.list_imports_sweep(now=timezone.now() + timedelta(seconds=30))
        if done.get("failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    running.refresh_from_db()
    assert done.get("failed") == 1 and running.status == S.FAILED
    assert "The command loading this file stopped at" in running.message
    assert not Record.objects.exists()  # the killed load rolled back
    # and the command run again with the same name loads the file, with no file left
    call_command("import_contact_list", str(path), company="Acme", name="Big")
    assert ContactList.objects.get(name="Big").rows == 300_000
    assert not list(upload_dir().glob("list-*"))
