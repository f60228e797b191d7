"""The import writes records, rejected rows and contact links with COPY or raw INSERTs, the
distribution writes entries with INSERT … SELECT, and both update imports and entries in
bulk: none of them runs ``save()`` or its signals. So those models have none to skip, and a
loaded row is the row ``save()`` would have stored."""

import pytest
from django.db import models
from django.db.models import signals

from campaigns.models import CELL_FIELDS, Entry, ListImport, Record, RecordContact, RejectedRow
from tests.campaigns.helpers import load_list
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

WRITTEN_IN_BULK = [Record, RejectedRow, RecordContact, Entry, ListImport]


@pytest.mark.parametrize("model", WRITTEN_IN_BULK, ids=lambda m: m.__name__)
def test_a_model_written_in_bulk_has_no_save_override_and_no_save_signal_receivers(model):
    overriding = [
        cls.__name__
        for cls in model.__mro__[: model.__mro__.index(models.Model)]
        if "save" in cls.__dict__ or "save_base" in cls.__dict__
    ]
    assert overriding == [], f"{model.__name__}.save() is overridden: the import skips it"
    for signal in (signals.pre_save, signals.post_save):
        assert not signal.has_listeners(model)


def _values(model, pk, without=("id",)) -> dict:
    row = model.objects.filter(pk=pk).values().get()
    return {name: value for name, value in row.items() if name not in without}


def test_a_loaded_record_rejected_row_and_link_are_the_rows_save_stores(company):
    # given a contact, and a list with a row of it, a bad row and cells to escape
    contact = ContactFactory(company=company, phone="+12125550101")
    data = 'Name,Phone,Note\n"Ann ""A""",(212) 555-0101,"tab\tand\\\\"\nBob,nope,x\n'
    # when it is loaded (COPY on PostgreSQL, batched INSERTs on SQLite)
    loaded = load_list(company, data)
    record = Record.objects.get(list_import=loaded)
    rejected = RejectedRow.objects.get(list_import=loaded)
    # then each row equals the one save() stores from the same values
    saved = Record.objects.create(
        contact_list_id=loaded.contact_list_id,
        list_import_id=loaded.pk,
        line=2,
        phone="+12125550101",
        **dict(zip(CELL_FIELDS, ['Ann "A"', "+12125550101", "tab\tand\\\\"], strict=False)),
    )
    assert _values(Record, record.pk) == _values(Record, saved.pk)
    saved_rejected = RejectedRow.objects.create(
        list_import=loaded, line=rejected.line, reason=rejected.reason, raw="Bob,nope,x"
    )
    assert _values(RejectedRow, rejected.pk) == _values(RejectedRow, saved_rejected.pk)
    link = RecordContact.objects.get(record=record)
    assert _values(RecordContact, link.pk, without=()) == {
        "record_id": record.pk,
        "contact_id": contact.pk,
    }
    RecordContact.objects.filter(pk=link.pk).delete()
    saved_link = RecordContact.objects.create(record=record, contact=contact)
    assert _values(RecordContact, saved_link.pk, without=()) == {
        "record_id": record.pk,
        "contact_id": contact.pk,
    }
