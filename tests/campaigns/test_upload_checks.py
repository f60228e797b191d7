"""What is refused at upload, with a message and nothing made: a taken list name, a file
past the size limit (by Content-Length, or while it is read), a header and no rows; a UTF-8
file with a stray byte; the encoding said in the report; callbacks bounded."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from campaigns import csv_reader
from campaigns.contact_lists import contact_list_create, list_import_start
from campaigns.models import ContactList, Entry, ListImport, Record
from campaigns.services import campaign_start
from campaigns.upload_limit import UploadLimitMiddleware
from campaigns.uploads import upload_dir
from campaigns.work import entry_call, entry_next
from tests.campaigns.helpers import load_list, make_campaign, phone, queue_with
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_folder(settings, tmp_path):
    """An upload folder of this test's own (the suite's is shared by its tests)."""
    settings.VAR_DIR = tmp_path / "var"


GOOD = f"Name,Phone\nAnn,{phone(1)}\n".encode()


def _add(client, name, data, filename="list.csv", **extra):
    return client.post(
        reverse("admin:campaigns_contactlist_add"),
        {"name": name, "file": SimpleUploadedFile(filename, data, "text/csv")},
        **extra,
    )


def _stored():
    folder = upload_dir()
    return list(folder.iterdir()) if folder.exists() else []


# --- Item 5: a taken name ------------------------------------------------------------------------
def test_a_taken_list_name_is_refused_by_the_name_field(login, company_admin, company):
    # given a list named Spring
    ContactList.objects.create(company=company, name="Spring")
    client = login(company_admin)
    # when the admin adds another list named Spring
    response = _add(client, "Spring", GOOD)
    # then the form says so by the name, and nothing is made
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [
        "Another contact list already has this name."
    ]
    assert ContactList.objects.count() == 1 and not ListImport.objects.exists()
    assert _stored() == []


def test_the_service_refuses_a_taken_list_name(company):
    from django.core.exceptions import ValidationError

    contact_list_create(company=company, name="Spring")
    with pytest.raises(ValidationError) as refused:
        contact_list_create(company=company, name=" Spring ")
    assert "name" in refused.value.message_dict


# --- Item 10: the size limit ---------------------------------------------------------------------
def test_an_upload_past_the_limit_by_content_length_is_refused_before_it_is_read(
    settings, company_admin
):
    # given a limit of 1 MB and a request saying it carries 5 MB
    settings.CONTACT_LIST_MAX_UPLOAD_BYTES = 1_048_576

    class Unread(io.BytesIO):
        def read(self, *args):
            raise AssertionError("the body was read")

        readline = read

    request = RequestFactory().generic(
        "POST",
        reverse("admin:campaigns_contactlist_add"),
        CONTENT_TYPE="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(5 * 1_048_576),
    )
    request.META["wsgi.input"] = Unread()
    request._stream = Unread()
    request.user = company_admin
    reached = []
    middleware = UploadLimitMiddleware(lambda r: reached.append(r) or HttpResponse())
    # when it comes in
    response = middleware(request)
    # then it is answered 413 with the limit, without reading it or reaching a view
    assert response.status_code == 413 and not reached
    assert b"larger than the limit of 1 MB" in response.content


def test_the_admin_answers_413_for_a_body_past_the_limit(login, company_admin, settings):
    settings.CONTACT_LIST_MAX_UPLOAD_BYTES = 10_000
    client = login(company_admin)
    response = _add(client, "Big", b"Phone\n" + b"1" * 200_000)
    assert response.status_code == 413 and b"larger than the limit" in response.content
    assert not ContactList.objects.exists() and _stored() == []


def test_a_file_past_the_limit_is_cut_off_while_read_and_refused_by_the_file_field(
    login, company_admin, settings, monkeypatch
):
    # given a limit of 10,000 bytes and a file of 40,000 in a request within the allowance
    settings.CONTACT_LIST_MAX_UPLOAD_BYTES = 10_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100_000
    received = []
    from campaigns import upload_limit

    real = upload_limit.LimitedUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        received.append(len(raw_data))
        return real(self, raw_data, start)

    monkeypatch.setattr(upload_limit.LimitedUploadHandler, "receive_data_chunk", counting)
    monkeypatch.setattr(upload_limit, "FORM_ALLOWANCE", 1_048_576)
    client = login(company_admin)
    # when it is uploaded
    response = _add(client, "Big", b"Phone\n" + b"1" * 40_000)
    # then reading stopped at the limit and the form says why by the file, nothing made
    assert response.status_code == 200
    assert "larger than the limit" in response.context["adminform"].form.errors["file"][0]
    assert sum(received) <= 10_000 + 65_536
    assert not ContactList.objects.exists() and _stored() == []


# --- Item 12: a header and no rows ---------------------------------------------------------------
@pytest.mark.parametrize("data", [b"Name,Phone\n", b"Name,Phone\n\n  \n", b"Name,Phone"])
def test_a_header_and_no_rows_is_refused_at_upload_and_nothing_is_made(login, company_admin, data):
    client = login(company_admin)
    response = _add(client, "Empty", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["file"] == [csv_reader.NO_ROWS]
    assert not ContactList.objects.exists() and not ListImport.objects.exists()


def test_a_file_refused_for_its_header_leaves_no_list_in_the_admin(login, company_admin):
    client = login(company_admin)
    response = _add(client, "No phone", b"Name,Agent\nAnn,a@x.test\n")
    assert response.status_code == 200
    assert "No phone column" in response.context["adminform"].form.errors["file"][0]
    assert not ContactList.objects.exists()


def test_the_load_refuses_a_header_and_no_rows(company):
    result = load_list(company, b"Name,Phone\n\n\n")
    assert result.status == ListImport.Status.REFUSED and result.message == csv_reader.NO_ROWS


def test_the_service_refuses_a_header_and_no_rows_storing_nothing(company):
    contact_list = ContactList.objects.create(company=company, name="Empty")
    with pytest.raises(csv_reader.Refused, match="a header and no rows"):
        list_import_start(contact_list=contact_list, chunks=[b"Phone\n"], file_name="e.csv")
    assert not ListImport.objects.exists() and _stored() == []


def test_the_command_refusing_a_header_and_no_rows_leaves_no_list(company, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"Name,Phone\n")
    with pytest.raises(CommandError, match="a header and no rows"):
        call_command("import_contact_list", str(path), company="Acme")
    assert not ContactList.objects.exists() and _stored() == []


# --- Item 9: encodings ---------------------------------------------------------------------------
def test_a_utf8_file_with_one_windows_1252_byte_is_refused_with_its_line(company):
    # given a UTF-8 list ("José") with one Windows-1252 byte on line 3
    data = f"Name,Phone\nJosé,{phone(1)}\n".encode() + f"Zoë,{phone(2)}\n".encode("cp1252")
    # when imported
    result = load_list(company, data)
    # then it is refused, naming the line and the byte, and nothing is stored
    assert result.status == ListImport.Status.REFUSED
    assert result.message.startswith("Line 3 has a byte that is not UTF-8 (0xEB)")
    assert not Record.objects.exists()


def test_a_stray_byte_before_the_utf8_is_refused_too(company):
    data = f"Name,Phone\nZoë,{phone(2)}\n".encode("cp1252") + f"José,{phone(1)}\n".encode()
    result = load_list(company, data)
    assert result.status == ListImport.Status.REFUSED
    assert result.message.startswith("Line 2 has a byte that is not UTF-8 (0xEB)")


def test_a_windows_1252_file_is_read_as_such_and_the_report_says_so(login, company_admin, company):
    data = f"Name,Phone\nAnn,{phone(1)}\nJosé,{phone(2)}\n".encode("cp1252")
    result = load_list(company, data)
    assert result.status == ListImport.Status.LOADED and result.encoding == "cp1252"
    assert result.warning.startswith("Read as Windows-1252: the file is not UTF-8 (line 3")
    page = login(company_admin).get(result.get_absolute_url())
    assert b"Read as Windows-1252" in page.content and b'id="import-warning"' in page.content


def test_a_utf8_file_is_reported_as_utf8(company, tmp_path, capsys):
    path = tmp_path / "list.csv"
    path.write_bytes(f"Name,Phone\nJosé,{phone(1)}\n".encode())
    call_command("import_contact_list", str(path), company="Acme", name="Accents")
    assert "Read as UTF-8." in capsys.readouterr().out
    assert ListImport.objects.get().warning == ""


# --- Item 4: callbacks ------------------------------------------------------------------------
@pytest.fixture
def called(company):
    ava = AgentFactory(email="ava@acme.test", full_name="Ava", companies=[company])
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "10")])
    campaign_start(campaign=campaign)
    entry = entry_next(campaign=campaign, agent=ava)
    entry_call(entry_id=entry.pk, agent=ava)
    return ava, campaign, entry


@pytest.mark.parametrize("when", ["9999-12-31T23:59", "2999-01-01T10:00"])
def test_a_callback_far_in_the_future_is_a_form_error(login, called, when):
    ava, campaign, entry = called
    client = login(ava)
    url = reverse("campaigns:entry", args=[campaign.pk, entry.pk])
    disposition = campaign.queue.dispositions.first()
    response = client.post(
        url, {"action": "disposition", "disposition": disposition.pk, "callback_at": when}
    )
    assert response.status_code == 200
    assert "at most a year ahead" in response.context["form"].errors["callback_at"][0]
    entry.refresh_from_db()
    assert entry.state == Entry.State.CALLED and entry.callback_at is None
    # and the supervisors' error page still answers
    assert client.get(url).status_code == 200


def test_a_callback_within_a_year_is_saved(login, called):
    ava, campaign, entry = called
    client = login(ava)
    when = (timezone.localtime() + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M")
    disposition = campaign.queue.dispositions.first()
    client.post(
        reverse("campaigns:entry", args=[campaign.pk, entry.pk]),
        {"action": "disposition", "disposition": disposition.pk, "callback_at": when},
    )
    entry.refresh_from_db()
    assert entry.state == Entry.State.QUEUED and entry.callback_at is not None
