"""Access levels as Django groups, and the model permissions each one grants.

Every access level is one group (created by migration ``0002_access_level_groups``). Its
permissions are declared here and re-applied after every ``migrate``, so adding a model or a
permission to this table is all it takes to grant it. An agent is in exactly the group of
their access level (``Agent.save`` keeps it so).
"""

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from .choices import AccessLevel

GROUP_NAMES: dict[str, str] = {
    AccessLevel.ADMIN: "Admin",
    AccessLevel.SUPERVISOR: "Supervisor",
    AccessLevel.AGENT: "Agent",
    AccessLevel.LEADS_AGENT: "Leads Agent",
}

# Contact centers in the Django admin (agents/centers/): what an Admin manages there.
CENTER_ADMIN_PERMISSIONS = [
    "agents.view_contactcenter",
    "agents.add_contactcenter",
    "agents.change_contactcenter",
    "agents.view_centermembership",
    "agents.view_calltype",
    "agents.add_calltype",
    "agents.change_calltype",
    "agents.delete_calltype",
    "agents.view_disposition",
    "agents.add_disposition",
    "agents.change_disposition",
    "agents.delete_disposition",
    "agents.view_skillrank",
    "agents.add_skillrank",
    "agents.change_skillrank",
    "agents.delete_skillrank",
    "agents.view_phonenumber",
    "agents.add_phonenumber",
    "agents.change_phonenumber",
    "agents.view_licenseupgrade",
    "agents.view_coachingrequest",
    "agents.view_device",
    "agents.add_device",
    "agents.change_device",
    "agents.delete_device",
    "agents.view_agentline",
    "agents.add_agentline",
    "agents.change_agentline",
]

# Leads in the Django admin (leads/): settings, products, the Order Details report, leads.
LEADS_ADMIN_PERMISSIONS = [
    "leads.view_leadssettings",
    "leads.add_leadssettings",
    "leads.change_leadssettings",
    "leads.view_product",
    "leads.add_product",
    "leads.change_product",
    "leads.view_order",
    "leads.view_lead",
    "leads.add_lead",
    "leads.view_leademail",
]

# Contact lists and campaigns in the admin (campaigns app).
CAMPAIGN_ADMIN_PERMISSIONS = [
    "campaigns.view_contactlist",
    "campaigns.add_contactlist",
    "campaigns.change_contactlist",
    "campaigns.view_campaign",
    "campaigns.add_campaign",
    "campaigns.change_campaign",
]

# "app_label.codename" per access level. Codenames of models that don't exist yet are
# ignored, so later apps can list theirs here before their first migration runs.
PERMISSIONS: dict[str, list[str]] = {
    AccessLevel.ADMIN: [
        "agents.view_company",
        "agents.change_company",
        "agents.view_agent",
        "agents.add_agent",
        "agents.change_agent",
        "contacts.view_contact",
        "contacts.add_contact",
        "contacts.change_contact",
        "contacts.delete_contact",
        "contacts.view_timelineentry",
        "contacts.view_interaction",
        "contacts.view_assignmentemail",
        "routing.view_reassignmentgroup",
        "routing.view_routingrule",
        "routing.view_round",
        "routing.view_decision",
        # The deadline emails' list (read-only, like the assignment emails').
        "routing.view_deadlineemail",
        *CENTER_ADMIN_PERMISSIONS,
        *LEADS_ADMIN_PERMISSIONS,
        *CAMPAIGN_ADMIN_PERMISSIONS,
    ],
    AccessLevel.SUPERVISOR: [
        "agents.view_agent",
        "contacts.view_contact",
        "contacts.view_timelineentry",
        "contacts.view_interaction",
        "routing.view_reassignmentgroup",
        "routing.view_routingrule",
        "routing.view_round",
        "routing.view_decision",
        "campaigns.view_campaign",
        "campaigns.view_contactlist",
    ],
    AccessLevel.AGENT: [
        "contacts.view_contact",
        "contacts.add_contact",
        "contacts.change_contact",
        "contacts.view_timelineentry",
    ],
    AccessLevel.LEADS_AGENT: [
        "contacts.view_contact",
        "contacts.view_timelineentry",
    ],
}


def _permissions(names: Iterable[str]) -> list[Permission]:
    query = Q()
    for name in names:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(query)) if query else []


def sync_access_level_groups() -> None:
    """Create the four groups if missing and set each one's permissions to the table above."""
    for level, group_name in GROUP_NAMES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.set(_permissions(PERMISSIONS[level]))


def sync_on_post_migrate(sender, **kwargs) -> None:
    sync_access_level_groups()


def is_company_admin(user) -> bool:
    """The one "is an admin" check: a superuser, or an agent of access level Admin. They use
    the Django admin (``Agent.save`` sets ``is_staff`` from this), manage every contact
    center of their company, act on any lead, and alone may hold routing management."""
    return user.is_superuser or user.access_level == AccessLevel.ADMIN


ROUTING_PERMISSION = ("routing", "manage_routing")


def sync_routing_permission(agent) -> None:
    """Grant or revoke *Contact Routing Rule Management* to follow the agent's checkbox."""
    permission = Permission.objects.filter(
        content_type__app_label=ROUTING_PERMISSION[0], codename=ROUTING_PERMISSION[1]
    ).first()
    if permission is None:  # before routing's first migrate
        return
    # Only Admins reach the screens it opens (see ``Agent.clean``); a demoted admin loses it.
    if agent.can_manage_routing and is_company_admin(agent):
        agent.user_permissions.add(permission)
    else:
        agent.user_permissions.remove(permission)


def sync_agent_groups(agent) -> None:
    """Put the agent in the group of their access level and in no other access-level group."""
    wanted = GROUP_NAMES[agent.access_level]
    current = set(agent.groups.filter(name__in=GROUP_NAMES.values()).values_list("name", flat=True))
    if current == {wanted}:
        return
    stale = current - {wanted}
    if stale:
        agent.groups.remove(*Group.objects.filter(name__in=stale))
    if wanted not in current:
        group, _ = Group.objects.get_or_create(name=wanted)
        agent.groups.add(group)
