"""The outbound webhooks' locks (``agents/lockorder.py``): both stand alone in their
transaction, taken after the change an event reports has committed.

- ``lock_company_events``: the company's row, ``FOR NO KEY UPDATE`` (it does not block the
  key-share locks that inserting a company's rows takes, so every other write goes on). It
  serialises, per company, the dispatch of new events into deliveries and the changes of
  endpoints, so that deliveries are created in event order (one dispatcher at a time: two
  dispatchers skipping each other's rows could commit a contact's later event first) and
  ``Company.outbound_event_types`` is computed from committed endpoints only.
- ``lock_endpoint_email``: one "endpoint disabled" email row (``agents.outbox``).

No lock is held across an HTTP request: one sender per endpoint is a lease
(``Endpoint.lease_until``, a compare-and-set in ``events.delivery``).
"""

from agents.lockorder import Level, lock_taken
from agents.locks import lock_email_row
from agents.models import Company

from .models import EndpointDisabledEmail


def lock_company_events(company_id: int) -> Company:
    lock_taken(Level.COMPANY_EVENTS, [company_id])
    return (
        Company.objects.select_for_update(no_key=True, of=("self",))
        .only("pk", "outbound_event_types")
        .get(pk=company_id)
    )


def lock_endpoint_email(pk: int) -> EndpointDisabledEmail | None:
    """The email row, locked (``agents.locks.lock_email_row``); None when another worker
    holds it."""
    return lock_email_row(EndpointDisabledEmail, level=Level.ENDPOINT_EMAIL, pk=pk)
