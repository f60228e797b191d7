"""Groups and books of contacts for the routing tests."""

from contacts.ownership import contacts_set_primary_agent
from contacts.services import contact_create
from routing.models import GroupMember, ReassignmentGroup


def group_of(company, members, method, **kwargs):
    group = ReassignmentGroup.objects.create(
        company=company, name=f"{method} group", method=method, **kwargs
    )
    for member in members:
        GroupMember.objects.create(group=group, agent=member)
    return group


def book_of(company, owner, n):
    """``n`` new contacts owned by ``owner``."""
    contacts = [
        contact_create(company=company, actor=None, phone=f"+1202555{300 + k:04d}")
        for k in range(n)
    ]
    contacts_set_primary_agent(company=company, targets={c.pk: owner for c in contacts}, actor=None)
    return contacts
