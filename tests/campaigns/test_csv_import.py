import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.csv_export import csv_cell
from campaigns import copy_text, csv_reader, importing
from campaigns.contact_lists import contact_list_delete
from campaigns.importing import list_import_create, list_import_run
from campaigns.models import ContactList, ListImport, Record, RecordContact, RejectedRow
from campaigns.uploads import store_upload
from tests.campaigns.helpers import at_once, cells, load_list, phone
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _records(contact_list):
    """The list's records, found as the campaigns find them (by their imports' id ranges)."""
    return list(Record.objects.of_list(contact_list.pk).order_by("line"))


def test_a_list_loads_with_phones_in_e164_and_bad_rows_reported_by_line(company):
    # given a file with good rows, a bad phone, a ragged row and a row without a phone
    data = (
        "Name,Phone,Agent\n"
        "Ann,(212) 555-0101,a@acme.test\n"
        "Bob,not a phone,b@acme.test\n"
        "Cy,+1 212 555 0103\n"
        "Di,,d@acme.test\n"
        '"Eve ""E""","+1 212 555 0105","multi\nline"\n'
    )
    # when it is imported
    result = load_list(company, data)
    # then the good rows are loaded, phones in E.164, and each bad row says why, by line
    assert result.status == ListImport.Status.LOADED
    assert (result.rows_loaded, result.rows_rejected) == (2, 3)
    records = _records(result.contact_list)
    assert [r.phone for r in records] == ["+12125550101", "+12125550105"]
    assert records[1].cells == ['Eve "E"', "+12125550105", "multi\nline"]
    rejected = {r.line: r.reason for r in RejectedRow.objects.filter(list_import=result)}
    assert set(rejected) == {3, 4, 5}
    assert "not a phone number" in rejected[3]
    assert rejected[4] == "2 cells; the header has 3"
    assert rejected[5] == "No phone number"
    assert result.contact_list.columns == ["Name", "Phone", "Agent"]


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"),
    [("utf-8", b"", ","), ("utf-8", b"\xef\xbb\xbf", ";"), ("cp1252", b"", "\t")],
)
def test_encodings_bom_and_delimiters_are_detected(company, encoding, bom, delimiter):
    # given the same list as UTF-8, UTF-8 with BOM (semicolons), Windows-1252 (tabs)
    text = delimiter.join(["Nom", "Téléphone", "Agent"]) + "\r\n"
    text += delimiter.join(["Zoë Müller", "212-555-0199", "a@acme.test"]) + "\r\n"
    # when imported
    result = load_list(company, bom + text.encode(encoding))
    # then names and accents survive and the phone is read
    assert result.status == ListImport.Status.LOADED, result.message
    assert result.contact_list.columns == ["Nom", "Téléphone", "Agent"]
    assert _records(result.contact_list)[0].cells == ["Zoë Müller", "+12125550199", "a@acme.test"]


def test_a_file_that_stops_being_utf8_after_a_megabyte_loads_whole_as_windows_1252(company):
    # given 40,000 plain rows (over a megabyte, past the first block sent to the database)
    # and then a row in Windows-1252
    rows = [f"{phone(i)},Person {i}" for i in range(40_000)]
    data = ("Phone,Name\n" + "\n".join(rows) + "\n").encode() + "+1 212 555 9999,Zoë\n".encode(
        "cp1252"
    )
    assert len(data) > copy_text.CHUNK
    # when imported
    result = load_list(company, data)
    # then the file is read again from the start as Windows-1252, every row once
    assert result.status == ListImport.Status.LOADED, result.message
    assert (result.encoding, result.rows_loaded) == ("cp1252", 40_001)
    records = _records(result.contact_list)
    assert len(records) == 40_001 and records[-1].cells == ["+12125559999", "Zoë"]


def test_a_file_neither_utf8_nor_windows_1252_is_refused_and_loads_nothing(company):
    data = b"Phone,Name\n" + b"+1 212 555 0101,\xe9\x81\n"
    result = load_list(company, data)
    assert result.status == ListImport.Status.REFUSED
    assert "neither UTF-8 nor Windows-1252" in result.message
    assert not Record.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"Name,Agent\nAnn,a@x.test\n", "No phone column"),
        (",".join(f"c{i}" for i in range(51)).encode() + b",Phone\n", "a list has at most 50"),
        (("x" * 129 + ",Phone\n").encode(), "at most 128"),
        (b"Phone,phone\n1,2\n", "Two columns are named"),
        (",".join(f"Phone {i}" for i in range(11)).encode() + b"\n", "at most 10"),
        (b"\xff\xfeP\x00h\x00", "UTF-16"),
        (b'Name,Phone\nAnn,"' + b"x" * 200_000 + b"\n", "never closed"),
    ],
)
def test_refused_files_say_why_and_load_nothing(company, data, message):
    # when a file breaking a limit is imported
    result = load_list(company, data)
    # then it is refused with the reason and nothing is loaded
    assert result.status == ListImport.Status.REFUSED
    assert message in result.message
    assert not Record.objects.exists() and not RejectedRow.objects.exists()
    assert result.contact_list.columns == []


def test_more_rows_than_the_limit_refuses_the_whole_file(company, monkeypatch):
    # given a row limit of 3 (the real one is 1,000,000)
    monkeypatch.setattr(csv_reader, "MAX_ROWS", 3)
    data = "Phone\n" + "".join(f"{phone(i)}\n" for i in range(4))
    # when 4 rows are imported
    result = load_list(company, data)
    # then nothing at all is loaded
    assert result.status == ListImport.Status.REFUSED
    assert "more than 3 rows" in result.message
    assert Record.objects.count() == 0


def test_a_long_cell_rejects_its_row(company):
    result = load_list(company, f"Phone,Note\n{phone(1)},{'x' * 513}\n{phone(2)},ok\n")
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert "513 characters (at most 512)" in result.rejected.get().reason


def test_a_file_over_the_size_limit_is_refused(company, settings):
    # given a limit of 100 bytes
    settings.CONTACT_LIST_MAX_UPLOAD_BYTES = 100
    # when a bigger file is stored, then it is refused at once with the limit
    with pytest.raises(csv_reader.Refused, match="larger than the limit"):
        load_list(company, "Phone\n" + "".join(f"{phone(i)}\n" for i in range(20)))


def test_records_link_to_the_companys_contact_with_the_same_phone(company, other_company):
    # given a contact of this company and one of another company with the same number
    mine = ContactFactory(company=company, phone="+12125550101")
    ContactFactory(company=other_company, phone="+12125550102")
    # when a list with both numbers is imported
    result = load_list(company, f"Phone\n{phone(101)}\n{phone(102)}\n")
    # then only this company's contact is linked
    linked = {r.phone: r.contact for r in _records(result.contact_list)}
    assert linked == {"+12125550101": mine, "+12125550102": None}
    assert RecordContact.objects.count() == 1
    # and once the contact is deleted its link reads as no link
    mine.delete()
    assert [r.contact for r in _records(result.contact_list)] == [None, None]


def test_an_import_keeps_the_id_range_of_its_records_and_finds_only_its_own(company):
    # given a list loaded, then appended to, and another list loaded in between
    first = load_list(company, "Phone,Name\n+12125550101,A\n+12125550102,B\n", name="One")
    other = load_list(company, "Phone,Name\n+12125550103,C\n", name="Two")
    appended = load_list(
        company,
        "Phone,Name\n+12125550104,D\n",
        contact_list=first.contact_list,
        kind=ListImport.Kind.APPEND,
    )
    # then each import knows the ids of its records
    for done in (first, other, appended):
        ids = Record.objects.filter(list_import=done).values_list("pk", flat=True)
        assert (done.first_record_id, done.last_record_id) == (min(ids), max(ids))
    # and a list's records are its imports' (a range that takes in another list's records,
    # as two loads at once give, still finds only the list's own)
    ListImport.objects.filter(pk=first.pk).update(last_record_id=other.last_record_id)
    assert sorted(r.c1 for r in _records(first.contact_list)) == ["A", "B", "D"]
    assert [r.c1 for r in _records(other.contact_list)] == ["C"]


def test_an_import_run_again_once_loaded_is_left_alone(company):
    done = load_list(company, "Phone,Name\n+12125550101,A\n")
    again = list_import_run(list_import_id=done.pk)
    assert (again.status, again.rows_loaded) == (ListImport.Status.LOADED, 1)
    assert (again.first_record_id, again.last_record_id) == (
        done.first_record_id,
        done.last_record_id,
    )
    assert Record.objects.count() == 1


def test_a_run_that_finds_its_import_finished_once_it_has_the_list_loads_nothing(
    company, monkeypatch
):
    # given an append, and another run of it that finishes while this one waits for the list
    first = load_list(company, "Phone,Name\n+12125550101,A\n")
    path, _ = store_upload([b"Phone,Name\n+12125550102,B\n"], name="more.csv")
    append = list_import_create(
        contact_list=first.contact_list, path=path, file_name="more.csv", kind="append"
    )
    real = importing.lock_contact_list

    def finished_while_waiting(pk):
        ListImport.objects.filter(pk=append.pk).update(status=ListImport.Status.LOADED)
        return real(pk)

    monkeypatch.setattr(importing, "lock_contact_list", finished_while_waiting)
    # when this run gets the list
    result = list_import_run(list_import_id=append.pk)
    # then it loads nothing and writes no outcome of its own (the other run's is simulated
    # inside this run's transaction here, so it is rolled back with it; the PostgreSQL test
    # below runs two real ones)
    assert result.status != ListImport.Status.FAILED and result.rows_loaded == 0
    assert Record.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_of_one_append_at_once_load_it_once(company):
    # given a loaded list and an append of 500 rows, delivered twice
    first = load_list(company, "Phone,Name\n+12125550101,A\n")
    rows = "".join(f"{phone(1000 + i)},P{i}\n" for i in range(500))
    path, _ = store_upload([f"Phone,Name\n{rows}".encode()], name="more.csv")
    append = list_import_create(
        contact_list=first.contact_list, path=path, file_name="more.csv", kind="append"
    )
    # when both runs start at once
    at_once(lambda: list_import_run(list_import_id=append.pk), 2)
    # then the rows are loaded once, all found by the list, and deleted with it
    append.refresh_from_db()
    assert (append.status, append.rows_loaded) == (ListImport.Status.LOADED, 500)
    assert Record.objects.count() == Record.objects.of_list(first.contact_list_id).count() == 501
    contact_list_delete(contact_list=first.contact_list)
    assert not Record.objects.exists()


def test_a_refused_import_keeps_no_id_range(company):
    refused = load_list(company, "Name\nAnn\n")
    assert refused.status == ListImport.Status.REFUSED
    assert refused.first_record_id is None and refused.last_record_id is None


def test_deleting_a_list_deletes_its_imports_and_records_and_no_others(company):
    kept = load_list(company, "Phone,Name\n+12125550101,A\n", name="Kept")
    gone = load_list(company, "Phone,Name\n+12125550102,B\n+12125550103,C\n", name="Gone")
    load_list(
        company,
        "Phone,Name\n+12125550104,D\n",
        contact_list=gone.contact_list,
        kind=ListImport.Kind.APPEND,
    )
    contact_list_delete(contact_list=gone.contact_list)
    assert not ContactList.objects.filter(pk=gone.contact_list_id).exists()
    assert not ListImport.objects.filter(contact_list_id=gone.contact_list_id).exists()
    assert list(Record.objects.values_list("c1", flat=True)) == ["A"]
    assert [r.c1 for r in _records(kept.contact_list)] == ["A"]


def test_the_rejected_rows_csv_is_escaped_against_formulas():
    assert [csv_cell(v) for v in ["=1+1", "+1", "-2", "@x", "\tx", "\rx", "ok", 5]] == [
        "'=1+1", "'+1", "'-2", "'@x", "'\tx", "'\rx", "ok", "5"]  # fmt: skip


def test_the_command_imports_a_file_and_prints_the_report(company, tmp_path, capsys):
    # given a file with one bad row
    path = tmp_path / "list.csv"
    path.write_text(f"Name,Phone\nAnn,{phone(1)}\nBob,nope\n")
    # when the command runs
    call_command("import_contact_list", str(path), company="Acme", name="Cmd list")
    # then the list is loaded and the report counts by reason
    out = capsys.readouterr().out
    assert "Loaded 1 rows" in out and "Rejected 1 rows" in out and "Invalid phone" in out
    assert ContactList.objects.get(name="Cmd list").rows == 1


def test_the_command_exits_non_zero_on_a_refused_file(company, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Name\nAnn\n")
    with pytest.raises(CommandError, match="No phone column"):
        call_command("import_contact_list", str(path), company="Acme")
    assert not Record.objects.exists()


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_cells_the_copy_format_could_misread_are_stored_as_written(company, delimiter):
    # given cells with quotes, an end-of-data marker on a line of its own, a lone carriage
    # return, spaces, NULL spellings, the other delimiters
    rows = [
        ["Phone", "Note", "Other"],
        [phone(1), "a\n\\.\nb", "\\."],
        [phone(2), "cr\rx", " spaced "],
        [phone(3), "", '"quoted"'],
        [phone(4), "tab\tx", "semi;colon,comma"],
        [phone(5), "\\N", "NULL"],
        [phone(6), "plain", "row"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    # when imported
    result = load_list(company, buffer.getvalue())
    # then every cell is stored exactly as written (phones in E.164)
    assert result.status == ListImport.Status.LOADED, result.message
    stored = [r.cells for r in _records(result.contact_list)]
    assert stored == [[f"+1212555{i:04d}", *row[1:]] for i, row in enumerate(rows[1:], start=1)]


# --- Fuzz: never a 500, never a partial list -----------------------------------------------
def _csv_bytes(rows, delimiter, encoding, bom):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return bom + buffer.getvalue().encode(encoding, errors="replace")


@given(
    rows=st.lists(st.lists(cells, min_size=0, max_size=6), min_size=0, max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "cp1252"]),
    bom=st.sampled_from([b"", b"\xef\xbb\xbf"]),
    junk=st.binary(max_size=40),
    header_phone=st.booleans(),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fuzzed_files_load_completely_or_not_at_all(
    company, rows, delimiter, encoding, bom, junk, header_phone
):
    header = ["Phone", "Name", "Agent"] if header_phone else ["Name"]
    data = _csv_bytes([header, *rows], delimiter, encoding, bom) + junk
    contact_list = ContactList.objects.create(
        company=company, name=f"fuzz {ContactList.objects.count()}"
    )
    result = load_list(company, data, contact_list=contact_list)
    loaded = Record.objects.filter(contact_list=contact_list).count()
    rejected = RejectedRow.objects.filter(list_import=result).count()
    if result.status == ListImport.Status.LOADED:
        assert loaded == result.rows_loaded and rejected == result.rows_rejected
        assert Record.objects.of_list(contact_list.pk).count() == loaded
    else:
        assert result.status == ListImport.Status.REFUSED, result.message
        assert result.message and loaded == 0 and rejected == 0


@given(data=st.binary(max_size=400))
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_random_bytes_are_refused_or_loaded_never_an_error(company, data):
    contact_list = ContactList.objects.create(
        company=company, name=f"bytes {ContactList.objects.count()}"
    )
    result = load_list(company, b"Phone,Name\n" + data, contact_list=contact_list)
    assert result.status in (ListImport.Status.LOADED, ListImport.Status.REFUSED), result.message
    if result.status == ListImport.Status.REFUSED:
        assert Record.objects.filter(contact_list=contact_list).count() == 0
