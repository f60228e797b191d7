"""Contact lists (upload, progress, rejected rows, append) and campaigns in the admin.

A campaign's dialing mode, queue, list and agent-owned column are read-only once it exists
(the service refuses a change too); state changes are admin actions calling the services."""

from .campaigns import CampaignAdmin
from .lists import ContactListAdmin

__all__ = ["CampaignAdmin", "ContactListAdmin"]
