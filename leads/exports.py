"""The Order Details export: CSV rows escaped against formula injection, streamed."""

from django.http import StreamingHttpResponse
from django.utils import timezone

from agents.csv_export import csv_cell, export_writer

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
    writer = export_writer()
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in csv_rows(orders)), content_type="text/csv"
    )
    response["Content-Disposition"] = 'attachment; filename="order-details.csv"'
    return response
