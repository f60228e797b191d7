"""Demo contact centers for the demo company (called by the demo seeding).

Idempotent: run twice, the same data. Every write goes through the centers' services except
the few facts a live system would produce on its own (ring outcomes, presence).
"""

from agents.centers.models import (
    AgentLine,
    CallType,
    CenterMembership,
    ContactCenter,
    Device,
    Disposition,
    License,
    PhoneNumber,
    SkillRank,
)
from agents.centers.services import center_add_members, membership_set_role
from agents.models import Agent, Company

Role = CenterMembership.Role

CENTERS = [
    # name, routing type, preferred agent routing
    ("Northwind Support", ContactCenter.RoutingType.SKILLS, False),
    ("Northwind Sales", ContactCenter.RoutingType.ROUND_ROBIN, True),
]
# center, email, role
MEMBERS = [
    ("Northwind Support", "supervisor@northwind.test", Role.SUPERVISOR),
    ("Northwind Support", "admin@northwind.test", Role.ADMIN),
    ("Northwind Support", "ava@northwind.test", Role.AGENT),
    ("Northwind Support", "ben@northwind.test", Role.AGENT),
    ("Northwind Support", "chloe@northwind.test", Role.AGENT),
    ("Northwind Sales", "supervisor@northwind.test", Role.SUPERVISOR),
    ("Northwind Sales", "chloe@northwind.test", Role.AGENT),
    ("Northwind Sales", "diego@northwind.test", Role.AGENT),
]
CALL_TYPES = {"Northwind Support": ["billing", "viewings", "maintenance"]}
# (center, email, call type): rank. Anyone else has no rank for that type, so a skills-based
# call of it does not ring them (the supervisor and the admin take no billing calls).
RANKS = {
    ("Northwind Support", "ava@northwind.test", "billing"): 90,
    ("Northwind Support", "ben@northwind.test", "billing"): 60,
    ("Northwind Support", "chloe@northwind.test", "billing"): 30,
    ("Northwind Support", "ava@northwind.test", "maintenance"): 40,
    ("Northwind Support", "ben@northwind.test", "maintenance"): 95,
}
DISPOSITIONS = {
    "Northwind Support": [("Resolved", False), ("Call back", False), ("Spam", False)],
    "Northwind Sales": [("Sold", True), ("Viewing booked", True), ("Not interested", False)],
}
DEVICES = {
    "ava@northwind.test": [(Device.Kind.DESKTOP_APP, "", True), (Device.Kind.MOBILE, "", True)],
    "ben@northwind.test": [(Device.Kind.DESK_PHONE, "", True), (Device.Kind.LAPTOP, "", False)],
    "chloe@northwind.test": [(Device.Kind.FORWARDING, "+12025550190", True)],
    "diego@northwind.test": [(Device.Kind.ROOM_PHONE, "", False)],  # rings nowhere: shown why
    "supervisor@northwind.test": [(Device.Kind.LAPTOP, "", True)],
}
# An Ai Voice user with a direct number, waiting to be upgraded when added to a center.
AI_VOICE_USER = ("emma@northwind.test", "+12025550191")


def seed_centers(company: Company, people: dict[str, Agent]) -> list[ContactCenter]:
    centers = {}
    for name, routing_type, preferred in CENTERS:
        center, _ = ContactCenter.objects.get_or_create(
            company=company,
            name=name,
            defaults={"routing_type": routing_type, "preferred_agent_routing": preferred},
        )
        centers[name] = center
    for email, numbers in [AI_VOICE_USER]:
        agent = people[email]
        AgentLine.objects.get_or_create(agent=agent, defaults={"license": License.AI_VOICE})
        PhoneNumber.objects.get_or_create(
            number=numbers, defaults={"company": company, "agent": agent}
        )
    for center_name, email, role in MEMBERS:
        center, agent = centers[center_name], people[email]
        membership = CenterMembership.objects.filter(center=center, agent=agent).first()
        if membership is None:
            (membership,) = center_add_members(center=center, agents=[agent], actor=None)
        if membership.role != role:
            membership_set_role(membership=membership, role=role)
    for center_name, names in CALL_TYPES.items():
        for name in names:
            CallType.objects.get_or_create(center=centers[center_name], name=name)
    for (center_name, email, call_type), rank in RANKS.items():
        center = centers[center_name]
        SkillRank.objects.update_or_create(
            membership=CenterMembership.objects.get(center=center, agent=people[email]),
            call_type=CallType.objects.get(center=center, name=call_type),
            defaults={"rank": rank},
        )
    for center_name, items in DISPOSITIONS.items():
        for name, is_sales in items:
            Disposition.objects.update_or_create(
                center=centers[center_name], name=name, defaults={"is_sales": is_sales}
            )
    for email, devices in DEVICES.items():
        for kind, number, ring in devices:
            Device.objects.get_or_create(
                agent=people[email], kind=kind, number=number, defaults={"ring": ring}
            )
    return list(centers.values())
