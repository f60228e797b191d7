"""Leads in the admin, one module per screen; every write goes through ``leads.services``.

- ``catalog``: the company's leads settings and its products;
- ``orders``: the Order Details report (filters, the *Show Leads Agent* column, batch *Assign
  Leads*, CSV export);
- ``assignments``: leads (the add form through the one lead path, the autocomplete of Partial
  customers, *Unassign*), the user's *Assigned Leads* tab, the lead emails.
"""

from . import assignments, catalog, orders  # noqa: F401 - importing them registers the admins
