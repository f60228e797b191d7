"""Contact lists, their imports and records (``lists``); preview campaigns with
agent-owned records and their per-agent queues (``campaign``)."""

from .campaign import MAX_AGENTS, MAX_SORT_COLUMNS, AgentKey, Campaign, Entry, OwnerChange
from .lists import (
    CELL_FIELDS,
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_HEADER_CHARS,
    MAX_PHONE_COLUMNS,
    MAX_ROWS,
    ContactList,
    ListImport,
    Record,
    RecordContact,
    RecordQuerySet,
    RejectedRow,
    cell_field,
    import_records_sql,
    record_ranges,
    records_of_list_sql,
)

__all__ = [
    "CELL_FIELDS",
    "MAX_AGENTS",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_HEADER_CHARS",
    "MAX_PHONE_COLUMNS",
    "MAX_ROWS",
    "MAX_SORT_COLUMNS",
    "AgentKey",
    "Campaign",
    "ContactList",
    "Entry",
    "ListImport",
    "OwnerChange",
    "Record",
    "RecordContact",
    "RecordQuerySet",
    "RejectedRow",
    "cell_field",
    "import_records_sql",
    "record_ranges",
    "records_of_list_sql",
]
