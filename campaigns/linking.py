"""Linking an import's new records to the company's contacts, set-based, inside the load's
transaction: each record to the contact with its (first) phone (``RecordContact``)."""

from django.db import connection

from contacts.models import Contact

from .models import Record, RecordContact, import_records_sql


def _column(model, name: str) -> str:
    return model._meta.get_field(name).column


def link_contacts(*, list_import_id: int, company_id: int, first, last) -> None:
    """Each record of the import (ids ``first`` … ``last``) to the company's contact with
    its phone.

    On PostgreSQL the join runs first on its own: an INSERT … SELECT is planned without
    parallel workers, a CREATE TABLE … AS SELECT with them (the scan of the new records is
    most of the time), then the links are inserted from that small table."""
    if first is None:
        return
    phone, contact_phone = _column(Record, "phone"), _column(Contact, "phone")
    matches = f"""
        SELECT r.{Record._meta.pk.column} AS record_id, c.{Contact._meta.pk.column} AS contact_id
        FROM {Record._meta.db_table} AS r
        JOIN {Contact._meta.db_table} AS c
            ON c.{_column(Contact, "company")} = %s AND c.{contact_phone} = r.{phone}
        WHERE {import_records_sql()} AND r.{phone} <> ''
    """  # noqa: S608 - our own names and condition
    params = [company_id, first, last, list_import_id]
    links = RecordContact._meta.db_table
    columns = f"{_column(RecordContact, 'record')}, {_column(RecordContact, 'contact')}"
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(f"INSERT INTO {links} ({columns}) {matches}", params)  # noqa: S608
            return
        cursor.execute(f"CREATE TEMPORARY TABLE import_links ON COMMIT DROP AS {matches}", params)  # noqa: S608
        cursor.execute(
            f"INSERT INTO {links} ({columns}) SELECT record_id, contact_id FROM import_links"  # noqa: S608
        )
        cursor.execute("DROP TABLE import_links")
