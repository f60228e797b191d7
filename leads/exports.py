"""The Order Details export: CSV rows escaped against formula injection, streamed."""

import csv

from django.http import StreamingHttpResponse
from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


EXPORT_HEADER = [
    "Order",
    "Created",
    "Status",
    "Total",
    "Currency",
    "Customer",
    "Phone",
    "Email",
    "Leads agent",
]


def csv_rows(orders) -> list:
    """The export's rows (header first), streamed a chunk at a time."""
    yield EXPORT_HEADER
    for order in orders.iterator(chunk_size=2000):
        yield [
            csv_cell(v)
            for v in (
                order.number,
                timezone.localtime(order.created_at).strftime("%Y-%m-%d %H:%M"),
                order.get_status_display(),
                order.total,
                order.currency,
                order.contact.name,
                order.contact.display_phone,
                order.contact.email,
                order.leads_agent_name or "",
            )
        ]


def orders_csv_response(orders) -> StreamingHttpResponse:
    """The Order Details export (the report's and the admin's), streamed."""
    # Every cell quoted: a cell holding the list separator of another locale ("a;=B1" where
    # Excel splits on semicolons) must not become two, the second a formula.
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in csv_rows(orders)), content_type="text/csv"
    )
    response["Content-Disposition"] = 'attachment; filename="order-details.csv"'
    return response
