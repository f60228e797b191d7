"""The API's contact lists and campaigns: the admin's import and checks (the same messages),
the upload limit, the campaign's life, its progress per agent and its error list; scopes and
company scoping on every URL."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from api.models import Scope
from campaigns.models import Campaign, ContactList, Entry, ListImport
from campaigns.services import campaign_start
from campaigns.work import entry_call, entry_disposition, entry_next
from tests.api.conftest import client_for
from tests.campaigns.helpers import load_list, make_campaign, phone, queue_with
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

CSV = (
    "Name,Phone,Agent,Balance\n"
    f"Ann,{phone(1)},ava@acme.test,10\n"
    "Bob,not a phone,ava@acme.test,20\n"
    f"Cy,{phone(3)},ava@acme.test,30\n"
).encode()


@pytest.fixture
def ava(company):
    return AgentFactory(email="ava@acme.test", full_name="Ava", companies=[company])


@pytest.fixture
def ben(company):
    return AgentFactory(email="ben@acme.test", full_name="Ben", companies=[company])


def _upload(api, data: bytes, *, name="Spring", file_name="list.csv", **extra):
    upload = SimpleUploadedFile(file_name, data, content_type="text/csv")
    return api.post(
        "/api/v1/contact-lists/", {"name": name, "file": upload}, format="multipart", **extra
    )


def _create(api, **fields):
    return api.post("/api/v1/campaigns/", fields, format="json")


# --- Contact lists -----------------------------------------------------------------------
def test_an_uploaded_csv_is_imported_and_its_progress_and_rejected_rows_read(
    api, company, django_capture_on_commit_callbacks
):
    # when a CSV is uploaded (the import runs after the commit, eagerly in tests)
    with django_capture_on_commit_callbacks(execute=True):
        created = _upload(api, CSV)
    # then the list exists with its import started
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["name"] == "Spring"
    assert body["list_import"]["status"] == ListImport.Status.QUEUED
    assert created["Location"] == f"/api/v1/contact-lists/{body['id']}/"
    # and its page says it loaded two rows and why the third was rejected
    read = api.get(f"/api/v1/contact-lists/{body['id']}/").json()
    assert read["columns"] == ["Name", "Phone", "Agent", "Balance"]
    assert read["phone_columns"] == ["Phone"]
    assert read["rows"] == 2
    [done] = read["imports"]
    assert (done["status"], done["finished"], done["percent"]) == ("loaded", True, 100)
    assert (done["rows_loaded"], done["rows_rejected"]) == (2, 1)
    [rejected] = done["rejected"]
    assert rejected["line"] == 3 and "phone" in rejected["reason"].lower()
    assert ContactList.objects.get(pk=body["id"]).company == company


def test_a_workbook_is_refused_as_not_csv_saying_what_to_do_and_nothing_made(api):
    # given an Excel workbook (a zip) and an old one
    xlsx = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U0#\xf4\x00\x00\x00L\x02"
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64
    # when uploaded
    response = _upload(api, xlsx, file_name="list.xlsx")
    old = _upload(api, xls, file_name="list.xls")
    # then refused by the file field, naming what they are and what to do
    assert response.status_code == 400
    assert response.json()["errors"]["file"] == [
        "This file is an Excel workbook (.xlsx), an OpenDocument sheet or another zip file, "
        "not CSV: save it as CSV UTF-8 (File › Save as › CSV UTF-8) and upload that file."
    ]
    assert old.json()["errors"]["file"][0].startswith("This file is an old Excel workbook (.xls)")
    assert not ContactList.objects.exists()


def test_a_file_that_is_no_text_is_refused_with_the_admin_s_message(api):
    # given bytes that are neither UTF-8 nor Windows-1252 (0x81 is undefined in cp1252)
    response = _upload(api, b"Name,Phone\n\x81\x8d\x8f,\x90\n")
    # then the admin's sentence
    assert response.status_code == 400
    assert response.json()["errors"]["file"] == [
        "The file is neither UTF-8 nor Windows-1252 text (is it a spreadsheet or a zip?). "
        "Save it as CSV UTF-8 and upload again."
    ]
    assert not ContactList.objects.exists()


def test_a_csv_without_a_phone_column_or_rows_is_refused_by_the_file(api):
    no_phone = _upload(api, b"Name,Agent\nAnn,ava@acme.test\n", name="A")
    assert no_phone.status_code == 400
    assert "phone" in no_phone.json()["errors"]["file"][0].lower()
    no_rows = _upload(api, b"Name,Phone\n", name="B")
    assert no_rows.json()["errors"]["file"] == [
        "The file has a header and no rows: there is nothing to load."
    ]
    assert not ContactList.objects.exists()


def test_a_taken_name_a_missing_file_and_json_are_refused_clearly(api, company):
    # given a list named Spring
    ContactList.objects.create(company=company, name="Spring")
    # then another Spring is refused by its name
    taken = _upload(api, CSV)
    assert taken.status_code == 400
    assert taken.json()["errors"]["name"] == ["Another contact list already has this name."]
    # a form without the file says which field it needs
    bare = api.post("/api/v1/contact-lists/", {"name": "Other"}, format="multipart")
    assert bare.json()["errors"]["file"] == [
        "Attach the list as a CSV file in the form field “file”."
    ]
    # a name past the column's 120 characters is refused by its field
    long = _upload(api, CSV, name="x" * 121)
    assert long.json()["errors"]["name"] == ["Ensure this field has no more than 120 characters."]
    # and JSON is not an upload
    as_json = api.post("/api/v1/contact-lists/", {"name": "Other"}, format="json")
    assert as_json.status_code == 415
    assert "multipart/form-data" in as_json.json()["detail"]
    assert ContactList.objects.count() == 1


@override_settings(CONTACT_LIST_MAX_UPLOAD_BYTES=2048)
def test_a_file_past_the_upload_limit_is_413_with_the_admin_s_message(api):
    # given a limit of 2 KB
    big = b"Name,Phone\n" + b"".join(f"P{i},{phone(i)}\n".encode() for i in range(200))
    assert len(big) > 2048
    # when a file past it is uploaded (read until the limit, then refused)
    response = _upload(api, big)
    # then 413, with the admin's sentence, and no list
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"].startswith("The file is larger than the limit of 0 MB")
    assert response.json()["detail"].endswith("split it and append the rest.")
    assert not ContactList.objects.exists()


@override_settings(CONTACT_LIST_MAX_UPLOAD_BYTES=1024)
def test_a_declared_length_far_past_the_limit_is_413_before_the_body_is_read(api):
    # given a request whose Content-Length is past the limit and the form's allowance
    huge = b"Name,Phone\n" + b"x,1\n" * 40_000
    # when posted
    response = _upload(api, huge)
    # then refused unread
    assert response.status_code == 413
    assert "larger than the limit" in response.json()["detail"]
    assert response["Connection"] == "close"
    assert not ContactList.objects.exists()


# --- Campaigns -----------------------------------------------------------------------------
def _loaded_list(company, rows, name="Q2 list"):
    lines = ["Name,Phone,Agent,Balance"]
    lines += [f"Person {i},{phone(100 + i)},{value},{i}" for i, value in enumerate(rows)]
    imported = load_list(company, "\n".join(lines) + "\n", name=name)
    assert imported.status == ListImport.Status.LOADED, imported.message
    return imported.contact_list


def test_a_campaign_is_created_from_a_list_and_read(api, company, ava):
    # given a loaded list and a queue with preferred agent routing
    queue = queue_with(company, ava)
    contact_list = _loaded_list(company, ["ava@acme.test", "ava@acme.test"])
    # when a campaign is created through the API
    response = _create(
        api,
        name=" Q2 ",
        queue=queue.pk,
        contact_list=contact_list.pk,
        agent_column="Agent",
        sort=[{"column": "Balance", "direction": "desc"}],
    )
    # then it is a draft, agent-owned preview campaign on that queue and list
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["status"], body["agent_owned"]) == ("Q2", "draft", True)
    assert body["queue"] == {"id": queue.pk, "name": queue.name}
    assert body["sort"] == [{"column": "Balance", "direction": "desc"}]
    assert api.get(f"/api/v1/campaigns/{body['id']}/").json() == body
    assert [c["id"] for c in api.get("/api/v1/campaigns/").json()["results"]] == [body["id"]]


def test_the_admin_s_rules_give_the_same_messages_by_field(api, company, ava):
    # given a list, a queue without preferred agent routing, and one with it
    contact_list = _loaded_list(company, ["ava@acme.test"])
    plain = queue_with(company, ava, preferred=False, name="Plain")
    queue = queue_with(company, ava)
    base = {"name": "Q2", "queue": queue.pk, "contact_list": contact_list.pk}

    def errors(**fields):
        response = _create(api, **{**base, "agent_column": "Agent", **fields})
        assert response.status_code == 400
        return response.json()["errors"]

    # then each rule says what the admin's form says, by its field
    assert errors(queue=plain.pk)["queue"] == [
        "“Plain” does not use preferred agent routing: turn it on in the center's settings "
        "first, or records cannot go to their own agents."
    ]
    assert errors(sort=[{"column": "Agent"}])["sort[0]"] == [
        "Records cannot be sorted by the agent column: each agent gets their own records in "
        "the order of the other columns."
    ]
    assert errors(sort=[{"column": "Name"}, {"column": "Nope"}])["sort[1]"] == [
        "“Nope” is not a column of the list."
    ]
    assert errors(agent_column="Owner")["agent_column"] == ["“Owner” is not a column of “Q2 list”."]
    assert errors(name=" ")["name"] == ["Give the campaign a name."]
    five = [{"column": c} for c in ("Name", "Phone", "Balance", "Name", "Phone")]
    assert "Sort by at most 4 columns." in errors(sort=five)["sort"]
    Campaign.objects.create(
        company=company, name="Q2", queue=queue, contact_list=contact_list, agent_column="Agent"
    )
    assert errors()["name"] == ["Another campaign already has this name."]


def test_a_list_naming_more_than_200_agents_is_refused_by_the_agent_column(api, company):
    # given 201 agents of the company named in the agent column
    people = [AgentFactory(companies=[company]) for _ in range(201)]
    queue = queue_with(company, *people)
    contact_list = _loaded_list(company, [p.email for p in people])
    # when a campaign is created
    response = _create(
        api, name="Big", queue=queue.pk, contact_list=contact_list.pk, agent_column="Agent"
    )
    # then refused with the admin's sentence
    assert response.status_code == 400
    assert response.json()["errors"]["agent_column"] == [
        "The agent column names 201 different agents; a campaign with agent-owned records "
        "has at most 200."
    ]
    assert not Campaign.objects.exists()


def test_start_pause_resume_and_refused_changes(api, company, ava, ben):
    # given a draft campaign with two records of Ava, one of Ben and one unknown agent
    queue = queue_with(company, ava, ben)
    rows = [("ava@acme.test", "1"), ("ben@acme.test", "2"), ("ava@acme.test", "3"),
            ("nobody@acme.test", "4")]  # fmt: skip
    campaign = make_campaign(company, queue, rows)
    url = f"/api/v1/campaigns/{campaign.pk}"
    # when it is paused before its start, then the service's refusal is a 400
    refused = api.post(f"{url}/pause/")
    assert refused.status_code == 400
    assert refused.json()["detail"] == "A draft campaign cannot be paused."
    # when started, the three deliverable records are queued
    started = api.post(f"{url}/start/")
    assert started.status_code == 200
    assert started.json()["queued"] == 3
    assert started.json()["campaign"]["status"] == "running"
    assert api.post(f"{url}/start/").json()["detail"] == "A running campaign cannot be started."
    # pause and resume
    assert api.post(f"{url}/pause/").json()["campaign"]["status"] == "paused"
    assert entry_next(campaign=Campaign.objects.get(pk=campaign.pk), agent=ava) is None
    assert api.post(f"{url}/resume/").json()["campaign"]["status"] == "running"


def _handle_one(campaign, agent):
    campaign.refresh_from_db()
    entry = entry_next(campaign=campaign, agent=agent)
    entry_call(entry_id=entry.pk, agent=agent)
    disposition = campaign.queue.dispositions.get(name="Promise to pay")
    entry_disposition(entry_id=entry.pk, agent=agent, disposition=disposition)
    return entry


def test_progress_per_agent_counts_as_the_dashboard(api, company, ava, ben):
    # given a running campaign where Ava handled one of her two records
    queue = queue_with(company, ava, ben)
    campaign = make_campaign(
        company,
        queue,
        [
            ("ava@acme.test", "1"),
            ("ava@acme.test", "2"),
            ("ben@acme.test", "3"),
            ("", "4"),
        ],  # fmt: skip
    )
    campaign_start(campaign=campaign)
    _handle_one(campaign, ava)
    # when its progress is read
    body = api.get(f"/api/v1/campaigns/{campaign.pk}/progress/").json()
    # then each agent's counts are the dashboard's
    by_agent = {row["agent"]["email"]: row for row in body["agents"]}
    assert {k: by_agent["ava@acme.test"][k] for k in ("total", "done", "remaining", "handled")} == {
        "total": 2,
        "done": 1,
        "remaining": 1,
        "handled": 1,
    }
    assert by_agent["ava@acme.test"]["percent"] == 50
    assert by_agent["ben@acme.test"]["remaining"] == 1
    assert (body["totals"]["total"], body["totals"]["done"], body["totals"]["errors"]) == (3, 1, 1)


def test_recycle_restarts_unfinished_lists_or_keeps_handled_records_closed(api, company, ava):
    # given Ava handled one of her two records
    queue = queue_with(company, ava)
    rows = [("ava@acme.test", "1"), ("ava@acme.test", "2")]
    campaign = make_campaign(company, queue, rows)
    campaign_start(campaign=campaign)
    handled = _handle_one(campaign, ava)
    url = f"/api/v1/campaigns/{campaign.pk}/recycle/"
    # when recycled plainly, her list starts again from the beginning, the handled one too
    plain = api.post(url, {}, format="json")
    assert plain.status_code == 200, plain.json()
    assert (plain.json()["owner_changes_applied"], plain.json()["kept_handled"]) == (0, 0)
    assert Entry.objects.get(pk=handled.pk).state == Entry.State.QUEUED
    progress = api.get(f"/api/v1/campaigns/{campaign.pk}/progress/").json()["totals"]
    assert (progress["remaining"], progress["handled_before"]) == (2, 1)
    # when recycled skipping the handled records, the one handled before stays closed
    skipping = api.post(url, {"skip_handled": True}, format="json")
    assert skipping.json()["kept_handled"] == 1
    assert Entry.objects.get(pk=handled.pk).state == Entry.State.HANDLED
    progress = api.get(f"/api/v1/campaigns/{campaign.pk}/progress/").json()["totals"]
    assert (progress["remaining"], progress["handled"], progress["done"]) == (1, 1, 1)
    assert Campaign.objects.get(pk=campaign.pk).recycle_count == 2


def test_the_error_list_is_in_file_order_with_reasons_and_a_cursor(api, company, ava, ben):
    # given records whose agent is unknown, empty or outside the queue, sorted by balance
    AgentFactory(email="out@acme.test", companies=[company])
    queue = queue_with(company, ava)
    rows = [("nobody@acme.test", "9"), ("ava@acme.test", "1"), ("", "5"),
            ("out@acme.test", "7")]  # fmt: skip
    campaign = make_campaign(company, queue, rows, sort=[["Balance", "asc"]])
    campaign_start(campaign=campaign)
    url = f"/api/v1/campaigns/{campaign.pk}/errors/"
    # when the errors are read two at a time
    first = api.get(url, {"limit": 2}).json()
    second = api.get(first["next"]).json()
    # then they come by line, each with its reason and cells
    errors = first["results"] + second["results"]
    assert [e["line"] for e in errors] == [2, 4, 5]
    assert [e["error"] for e in errors] == ["unknown_email", "empty", "not_in_queue"]
    assert errors[2]["reason"] == "The agent is not a member of the campaign's queue"
    assert errors[0]["cells"]["Name"] == "Person 0"
    assert errors[0]["phone"] == "+12125550100"
    assert second["next"] is None


# --- Scopes and company scoping ------------------------------------------------------------
def _company_objects(company, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    return campaign, queue, campaign.contact_list


WRITES = ["/start/", "/pause/", "/resume/", "/recycle/"]


def test_a_read_only_key_gets_403_on_every_write(company, ava):
    # given a key with only the read scope
    campaign, queue, contact_list = _company_objects(company, ava)
    reader = client_for(company, scopes=[Scope.READ])
    # then every write is refused naming the scope, and nothing changed
    answers = [
        _upload(reader, CSV, name="New"),
        _create(
            reader, name="X", queue=queue.pk, contact_list=contact_list.pk, agent_column="Agent"
        ),
        *[reader.post(f"/api/v1/campaigns/{campaign.pk}{w}", {}, format="json") for w in WRITES],
    ]
    for answer in answers:
        assert answer.status_code == 403
        assert "“write”" in answer.json()["detail"]
    assert ContactList.objects.count() == 1 and Campaign.objects.get().status == "draft"
    # while it reads
    assert reader.get(f"/api/v1/campaigns/{campaign.pk}/").status_code == 200


def test_another_company_s_key_gets_404_on_every_url_and_cannot_use_our_objects(
    company, other_api, other_company, ava
):
    # given our campaign, queue and list
    campaign, queue, contact_list = _company_objects(company, ava)
    # then their key finds none of our URLs
    reads = [
        f"/api/v1/contact-lists/{contact_list.pk}/",
        f"/api/v1/campaigns/{campaign.pk}/",
        f"/api/v1/campaigns/{campaign.pk}/progress/",
        f"/api/v1/campaigns/{campaign.pk}/errors/",
    ]
    for url in reads:
        assert other_api.get(url).status_code == 404, url
    for write in WRITES:
        answer = other_api.post(f"/api/v1/campaigns/{campaign.pk}{write}", {}, format="json")
        assert answer.status_code == 404, write
    assert other_api.get("/api/v1/campaigns/").json()["results"] == []
    assert other_api.get("/api/v1/contact-lists/").json()["results"] == []
    # and cannot create a campaign on our queue or list, told nothing about them
    theirs_queue = queue_with(other_company, name="Their queue")
    theirs_list = _loaded_list(other_company, ["x@globex.test"], name="Their list")
    with_our_queue = _create(
        other_api, name="X", queue=queue.pk, contact_list=theirs_list.pk, agent_column="Agent"
    )
    assert with_our_queue.json()["errors"] == {"queue": ["Pick a contact center of this company."]}
    with_our_list = _create(
        other_api,
        name="X",
        queue=theirs_queue.pk,
        contact_list=contact_list.pk,
        agent_column="Agent",
    )
    assert with_our_list.json()["errors"] == {
        "contact_list": ["Pick a contact list of this company."]
    }
    assert Campaign.objects.count() == 1
    assert Campaign.objects.get().status == "draft"


def test_an_upload_with_an_idempotency_key_is_made_once_and_replayed(api):
    # when the same upload is sent twice with one key
    first = _upload(api, CSV, HTTP_IDEMPOTENCY_KEY="spring-1")
    again = _upload(api, CSV, HTTP_IDEMPOTENCY_KEY="spring-1")
    # then one list is made, and the second answer replays the first
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert ContactList.objects.count() == 1


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_an_upload_too_big_to_compare_for_its_idempotency_key_is_413_saying_why(api):
    # given a file larger than what a request's body may hold in memory
    data = b"Name,Phone\n" + b"".join(f"P{i},{phone(i)}\n".encode() for i in range(100))
    # when it is sent with an Idempotency-Key
    response = _upload(api, data, HTTP_IDEMPOTENCY_KEY="spring-2")
    # then 413 with the reason and the way out, and nothing made
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "With an Idempotency-Key an upload is read into memory, so it may be at most 0.0 MB "
        "(1,024 bytes): send this file without the header."
    )
    assert not ContactList.objects.exists()


def test_the_campaign_lists_cost_the_same_queries_for_few_rows_or_many(api, company, ava):
    def cost(url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url).status_code == 200
        return len(queries)

    api.get("/api/v1/campaigns/")  # the key's last use is written once a while: not counted
    # given a campaign with one error, then one with four, and one campaign then two
    queue = queue_with(company, ava)
    small = make_campaign(company, queue, [("nobody@acme.test", "1")], name="Small")
    campaign_start(campaign=small)
    few = (cost("/api/v1/campaigns/"), cost(f"/api/v1/campaigns/{small.pk}/errors/"))
    big = make_campaign(company, queue, [(f"n{i}@acme.test", "1") for i in range(4)], name="Big")
    campaign_start(campaign=big)
    many = (cost("/api/v1/campaigns/"), cost(f"/api/v1/campaigns/{big.pk}/errors/"))
    # then the lists and the error pages take as many queries
    assert many == few
