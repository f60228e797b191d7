import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns.models import Record

BEFORE = [("campaigns", "0004_entry_without_record_index_or_fk_triggers")]


@pytest.mark.django_db(transaction=True)
def test_records_keep_their_cells_and_contact_and_are_found_by_their_import_after_migrating():
    # given records stored with their cells as one JSON array (before 0005)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    company = old.get_model("agents", "Company").objects.create(name="Migrated Co")
    contact_list = old.get_model("campaigns", "ContactList").objects.create(
        company=company, name="Old list", columns=["Name", "Phone", "Note"]
    )
    list_import = old.get_model("campaigns", "ListImport").objects.create(
        contact_list=contact_list, file_path="-", status="loaded"
    )
    contact = old.get_model("contacts", "Contact").objects.create(
        company=company, name="Zoë", phone="+12125550101"
    )
    OldRecord = old.get_model("campaigns", "Record")
    OldRecord.objects.create(
        contact_list=contact_list,
        list_import=list_import,
        line=2,
        phone="+12125550101",
        data=["Zoë", "+12125550101", 'say "hi"\nthen go'],
        contact=contact,
    )
    OldRecord.objects.create(
        contact_list=contact_list, list_import=list_import, line=3, phone="+1", data=["", "+1", ""]
    )
    # when the cells move to their columns (0005) and the import learns its records' ids (0006)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then every cell is in its column, and nothing past the list's width
    records = list(Record.objects.filter(contact_list_id=contact_list.pk).order_by("line"))
    assert [r.cells for r in records] == [
        ["Zoë", "+12125550101", 'say "hi"\nthen go'],
        ["", "+1", ""],
    ]
    assert records[0].c3 is None
    # and the list's records are found by the range its import now keeps
    assert list(Record.objects.of_list(contact_list.pk).order_by("line")) == records
    # and the link to the contact moved to its own table (0007)
    assert records[0].contact.pk == contact.pk and records[1].contact is None
    # and the way back gives the arrays again
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    back = old.get_model("campaigns", "Record").objects.order_by("line")
    assert list(back.values_list("data", "contact_id")) == [
        (["Zoë", "+12125550101", 'say "hi"\nthen go'], contact.pk),
        (["", "+1", ""], None),
    ]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
