"""``contact_lists.list_import_start``: the upload stored, its import created and queued; nothing
left on disk when its transaction rolls back."""

from pathlib import Path

import pytest
from django.db import transaction

from campaigns import contact_lists as services
from campaigns.csv_reader import Refused
from campaigns.models import ContactList, ListImport
from campaigns.uploads import upload_dir

pytestmark = pytest.mark.django_db

DATA = b"Name,Phone\nAnn,+1 212 555 0101\n"


@pytest.fixture(autouse=True)
def _own_folder(settings, tmp_path):
    """An upload folder of this test's own (the suite's is shared by its tests)."""
    settings.VAR_DIR = tmp_path / "var"


def _stored() -> list[Path]:
    folder = upload_dir()
    return sorted(folder.iterdir()) if folder.exists() else []


def test_an_import_started_is_loaded_after_commit_and_its_upload_removed(
    company, django_capture_on_commit_callbacks
):
    # given a new list
    contact_list = ContactList.objects.create(company=company, name="Started")
    # when its import starts and the transaction commits
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        started = services.list_import_start(
            contact_list=contact_list, chunks=[DATA], file_name="list.csv"
        )
        # then until the commit the import waits, with its file stored
        assert started.status == ListImport.Status.QUEUED
        assert _stored() == [Path(started.file_path)]
    # and after it the queued task loads it and removes the file
    assert len(callbacks) == 1
    started.refresh_from_db()
    assert (started.status, started.rows_loaded) == (ListImport.Status.LOADED, 1)
    assert _stored() == []


def test_a_failure_inside_the_transaction_leaves_no_file_behind(company, monkeypatch):
    # given a list, and an import that fails once its file is stored
    contact_list = ContactList.objects.create(company=company, name="Fails")

    def broken(**kwargs):
        assert _stored(), "the file is stored before the import is created"
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "list_import_create", broken)
    # when the import starts
    with pytest.raises(RuntimeError):
        services.list_import_start(contact_list=contact_list, chunks=[DATA], file_name="a.csv")
    # then neither the import nor its file is left
    assert not ListImport.objects.exists()
    assert _stored() == []


def test_a_rollback_of_the_import_s_own_transaction_removes_the_file(company, monkeypatch):
    # given a task queue that refuses the message (inside the import's transaction)
    contact_list = ContactList.objects.create(company=company, name="Unqueued")

    def refuse(pk):
        raise ConnectionError("broker down")

    monkeypatch.setattr(services.run_list_import, "delay_on_commit", refuse)
    # when the import starts inside the caller's transaction
    with pytest.raises(ConnectionError), transaction.atomic():
        services.list_import_start(contact_list=contact_list, chunks=[DATA], file_name="b.csv")
    # then the import was rolled back and its file removed
    assert not ListImport.objects.exists()
    assert _stored() == []


def test_a_file_past_the_limit_is_refused_and_nothing_is_stored(company, settings):
    settings.CONTACT_LIST_MAX_UPLOAD_BYTES = 10
    contact_list = ContactList.objects.create(company=company, name="Too big")
    with pytest.raises(Refused, match="larger than the limit"):
        services.list_import_start(contact_list=contact_list, chunks=[DATA], file_name="c.csv")
    assert not ListImport.objects.exists()
    assert _stored() == []


def test_uploads_go_to_the_folder_the_settings_name_when_stored(company, settings, tmp_path):
    # given the folder changed after the modules were imported
    settings.VAR_DIR = tmp_path / "elsewhere"
    contact_list = ContactList.objects.create(company=company, name="Elsewhere")
    # when an import starts
    started = services.list_import_start(
        contact_list=contact_list, chunks=[DATA], file_name="d.csv", enqueue=False
    )
    # then its file is stored there
    assert Path(started.file_path).parent == tmp_path / "elsewhere" / "uploads" / "contact_lists"
