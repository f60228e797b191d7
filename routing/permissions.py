"""Routing's access policy: who edits groups and rules, who hands over a book.

The admin's classes, actions and pages ask these; nothing checks a routing permission ad hoc.
*Contact Routing Rule Management* (``routing.manage_routing``) is granted per agent by the
*contact routing rule management* checkbox (``agents.access.sync_routing_permission``) and
only to Admins: groups and rules are edited in the Django admin, which only Admins reach
(``agents.models.Agent.clean`` refuses it for other levels, with the reason)."""

MANAGE_ROUTING = "routing.manage_routing"


def can_manage_routing(user) -> bool:
    """May create, change and delete reassignment groups and routing rules."""
    return user.is_active and user.has_perm(MANAGE_ROUTING)


def can_grant_routing(user) -> bool:
    """May tick *Contact Routing Rule Management* for someone else: only its holders."""
    return user.is_superuser or can_manage_routing(user)


def can_hand_over_book(user) -> bool:
    """May send a leaver's whole book through a group: whoever may change contacts."""
    return user.is_active and user.has_perm("contacts.change_contact")
