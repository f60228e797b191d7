"""Contact centers over the API: members with roles, and the ring list a call would get,
computed as the webhook computes it, changing nothing."""

import pytest

from agents.centers.models import CallType, CenterMembership, ContactCenter, QueueItem, SkillRank
from agents.centers.services import center_add_members, membership_set_role
from agents.models import Presence
from contacts.models import Interaction
from tests.agents.factories_centers import ContactCenterFactory, DeviceFactory
from tests.factories import AgentFactory, online
from tests.routing.test_webhook import hook  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(company):
    """A skills-based center: Ava (billing 40), Ben (billing 90, supervisor), Cleo (away);
    Dan has no ringing device."""
    center = ContactCenterFactory(
        company=company, name="Help Desk", routing_type=ContactCenter.RoutingType.SKILLS
    )
    billing = CallType.objects.create(center=center, name="billing")
    people = {}
    for name in ("Ava", "Ben", "Cleo", "Dan"):
        person = AgentFactory(
            companies=[company], full_name=f"{name} Agent", email=f"{name.lower()}@acme.test"
        )
        online(person, presence=Presence.AWAY if name == "Cleo" else Presence.AVAILABLE)
        DeviceFactory(agent=person, ring=name != "Dan", label=f"{name}'s mobile")
        people[name] = person
    center_add_members(center=center, agents=people.values(), actor=None)
    for name, rank in (("Ava", 40), ("Ben", 90)):
        membership = CenterMembership.objects.get(center=center, agent=people[name])
        SkillRank.objects.create(membership=membership, call_type=billing, rank=rank)
    membership_set_role(
        membership=CenterMembership.objects.get(center=center, agent=people["Ben"]),
        role=CenterMembership.Role.SUPERVISOR,
    )
    return center, people


def test_a_center_shows_its_routing_type_and_members_with_roles(api, desk):
    # given
    center, people = desk
    # when
    answer = api.get(f"/api/v1/centers/{center.pk}/")
    # then
    assert answer.status_code == 200
    body = answer.json()
    assert (body["name"], body["routing_type"], body["is_active"]) == (
        "Help Desk",
        "skills",
        True,
    )
    assert body["call_types"] == ["billing"]
    members = {m["agent"]["email"]: m for m in body["members"]}
    assert set(members) == {"ava@acme.test", "ben@acme.test", "cleo@acme.test", "dan@acme.test"}
    assert members["ben@acme.test"]["role"] == "supervisor"
    assert members["ava@acme.test"]["role"] == "agent"
    assert members["ben@acme.test"]["ranks"] == {"billing": 90}
    assert members["dan@acme.test"]["ranks"] == {}
    assert members["cleo@acme.test"]["working_state"] == "away"


def test_the_ring_list_is_the_one_the_webhook_then_gives_a_call(api, desk, hook):  # noqa: F811
    # given
    center, people = desk
    before = (Interaction.objects.count(), QueueItem.objects.count())
    # when
    answer = api.get(f"/api/v1/centers/{center.pk}/ring-list/", {"call_type": "billing"})
    # then Ben (90) rings before Ava (40), each with their devices; Cleo and Dan are left out
    assert answer.status_code == 200
    body = answer.json()
    assert [(r["agent"]["email"], r["order"], r["rank"]) for r in body["ring"]] == [
        ("ben@acme.test", 1, 90),
        ("ava@acme.test", 2, 40),
    ]
    assert body["ring"][0]["devices"][0]["label"] == "Ben's mobile"
    left_out = {r["agent"]["email"]: r["why"] for r in body["left_out"]}
    assert left_out == {
        "cleo@acme.test": "not available",
        "dan@acme.test": "no device with Ring this device on",
    }
    # and nothing was recorded
    assert (Interaction.objects.count(), QueueItem.objects.count()) == before
    # the webhook's answer for a call now is the same list, with the same reason
    call = hook(
        {
            "channel": "call",
            "phone": "+12025550142",
            "contact_center": "Help Desk",
            "call_type": "billing",
        }
    ).json()
    assert [r["agent"] for r in call["ring"]] == [r["agent"]["email"] for r in body["ring"]]
    assert [r["order"] for r in call["ring"]] == [r["order"] for r in body["ring"]]
    assert Interaction.objects.get(pk=call["interaction"]).route_reason == body["reason"]


def test_a_presence_change_shows_in_the_ring_list(api, desk):
    # given Cleo comes back, with a billing rank
    center, people = desk
    membership = CenterMembership.objects.get(center=center, agent=people["Cleo"])
    SkillRank.objects.create(
        membership=membership, call_type=CallType.objects.get(center=center), rank=95
    )
    url = f"/api/v1/agents/{people['Cleo'].pk}/presence/"
    assert api.put(url, {"presence": "available"}, format="json").status_code == 200
    # when
    body = api.get(f"/api/v1/centers/{center.pk}/ring-list/", {"call_type": "billing"}).json()
    # then she rings first
    assert body["ring"][0]["agent"]["email"] == "cleo@acme.test"


def test_a_deactivated_center_has_no_ring_list(api, desk):
    center, _ = desk
    ContactCenter.objects.filter(pk=center.pk).update(is_active=False)
    answer = api.get(f"/api/v1/centers/{center.pk}/ring-list/")
    assert answer.status_code == 409
    assert "deactivated" in answer.json()["detail"]
    # still readable, and listed as inactive
    assert api.get(f"/api/v1/centers/{center.pk}/").json()["is_active"] is False
    active = api.get("/api/v1/centers/", {"is_active": "true"}).json()["results"]
    assert center.pk not in [c["id"] for c in active]


def test_the_list_is_the_companys_centers_only(api, company, other_company, desk):
    center, _ = desk
    ContactCenterFactory(company=other_company, name="Globex floor")
    second = ContactCenterFactory(company=company, name="Sales")
    listed = api.get("/api/v1/centers/").json()["results"]
    assert [c["id"] for c in listed] == [center.pk, second.pk]
    assert listed[0]["is_open"] is True


def test_another_companys_key_gets_404_on_every_center_url(other_api, desk):
    center, _ = desk
    for url in (f"/api/v1/centers/{center.pk}/", f"/api/v1/centers/{center.pk}/ring-list/"):
        assert other_api.get(url).status_code == 404, url
    assert other_api.get("/api/v1/centers/").json()["results"] == []


def test_a_call_type_that_is_no_name_is_400_on_the_field(api, desk):
    center, _ = desk
    url = f"/api/v1/centers/{center.pk}/ring-list/"
    for bad in ("bill\x00ing", "x" * 101):
        answer = api.get(url, {"call_type": bad})
        assert answer.status_code == 400
        assert "call_type" in answer.json()["errors"]
