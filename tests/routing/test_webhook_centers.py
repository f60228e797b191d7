"""The webhook's ``contact_center`` contract: calls and chats ring a center's members."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from agents.centers.models import CallType, CenterMembership, ContactCenter, QueueItem, SkillRank
from agents.centers.services import center_add_members
from agents.models import Presence
from contacts.interactions import interaction_take
from contacts.models import Interaction
from contacts.selectors import inbox_active
from tests.agents.factories_centers import ContactCenterFactory, DeviceFactory
from tests.factories import AgentFactory, online
from tests.routing.test_webhook import hook  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(company):
    """A skills-based center: Ava (billing 40), Ben (billing 90), Cleo (away); Dan has no
    ringing device."""
    center = ContactCenterFactory(
        company=company, name="Help Desk", routing_type=ContactCenter.RoutingType.SKILLS
    )
    billing = CallType.objects.create(center=center, name="billing")
    people = {}
    for name in ("Ava", "Ben", "Cleo", "Dan"):
        person = AgentFactory(companies=[company], full_name=f"{name} Agent")
        online(person, presence=Presence.AWAY if name == "Cleo" else Presence.AVAILABLE)
        DeviceFactory(agent=person, ring=name != "Dan", label=f"{name}'s mobile")
        people[name] = person
    center_add_members(center=center, agents=people.values(), actor=None)
    for name, rank in (("Ava", 40), ("Ben", 90)):
        membership = CenterMembership.objects.get(center=center, agent=people[name])
        SkillRank.objects.create(membership=membership, call_type=billing, rank=rank)
    return center, people


def test_a_call_to_a_center_answers_201_with_its_ring_list(hook, desk):  # noqa: F811
    center, people = desk
    # when a billing call for the center comes in (by name, any case)
    response = hook(
        {
            "channel": "call",
            "phone": "+12025550142",
            "contact_center": "help desk",
            "call_type": "billing",
        }
    )

    # then the answer carries the ring list: Ben (90) before Ava (40), with their devices;
    # Cleo (away) and Dan (no ringing device) are left out
    assert response.status_code == 201
    answer = response.json()
    assert answer["contact_center"] == {"id": center.pk, "name": "Help Desk"}
    assert [(r["name"], r["order"]) for r in answer["ring"]] == [
        ("Ben Agent", 1),
        ("Ava Agent", 2),
    ]
    assert answer["ring"][0]["agent"] == people["Ben"].email
    assert answer["ring"][0]["devices"] == [{"kind": "mobile", "label": "Ben's mobile"}]
    assert "2 agent(s) ring" in answer["reason"]
    # and the interaction stores it, with the reason, waiting in the center's queue
    interaction = Interaction.objects.get(pk=answer["interaction"])
    assert interaction.center == center and interaction.ring == answer["ring"]
    assert interaction.route_details["excluded"] == {
        str(people["Cleo"].pk): "not available",
        str(people["Dan"].pk): "no device with Ring this device on",
    }
    assert QueueItem.objects.filter(center=center, answered_at__isnull=True).count() == 1


def test_a_center_can_be_named_by_its_id(hook, desk):  # noqa: F811
    center, _ = desk
    response = hook({"channel": "chat", "phone": "+12025550142", "contact_center": str(center.pk)})
    assert response.status_code == 201
    assert response.json()["contact_center"]["name"] == "Help Desk"


def test_an_unknown_center_answers_400_and_stores_nothing(hook, desk):  # noqa: F811
    response = hook({"channel": "call", "phone": "+12025550142", "contact_center": "Nope"})
    assert response.status_code == 400
    assert response.json()["errors"]["contact_center"] == ["Acme has no contact center “Nope”."]
    assert not Interaction.objects.exists()


def test_another_companys_center_is_unknown(hook, desk, other_company):  # noqa: F811
    theirs = ContactCenterFactory(company=other_company, name="Their Desk")
    response = hook({"channel": "call", "phone": "+12025550142", "contact_center": "Their Desk"})
    assert response.status_code == 400
    # nor by its id
    response = hook({"channel": "call", "phone": "+12025550142", "contact_center": str(theirs.pk)})
    assert response.status_code == 400


def test_with_nobody_to_ring_the_call_waits_in_the_centers_queue(hook, desk):  # noqa: F811
    center, people = desk
    for person in people.values():
        online(person, presence=Presence.AWAY)
    response = hook({"channel": "call", "phone": "+12025550142", "contact_center": "Help Desk"})
    assert response.status_code == 201
    assert response.json()["ring"] == []
    assert "waits in its queue" in response.json()["reason"]


def test_only_the_centers_members_see_and_take_its_calls(hook, desk, company):  # noqa: F811
    center, people = desk
    outsider = online(AgentFactory(companies=[company], full_name="Olga Outsider"))
    item_id = hook({"channel": "call", "phone": "+12025550142", "contact_center": "Help Desk"})
    item_id = item_id.json()["interaction"]

    # the outsider neither sees nor takes it
    assert not inbox_active(company=company, agent=outsider).filter(pk=item_id).exists()
    with pytest.raises(ValidationError, match="only its members take it"):
        interaction_take(company=company, interaction_id=item_id, agent=outsider)

    # a member does; the item leaves the center's queue and round robin/idle time move on
    assert inbox_active(company=company, agent=people["Ava"]).filter(pk=item_id).exists()
    interaction_take(company=company, interaction_id=item_id, agent=people["Ava"])
    assert not QueueItem.objects.filter(center=center, answered_at__isnull=True).exists()
    assert center.rings.get().agent == people["Ava"]


def test_a_text_naming_a_center_still_goes_to_the_primary_agent_path(hook, desk):  # noqa: F811
    response = hook({"channel": "text", "phone": "+12025550142", "contact_center": "Help Desk"})
    assert response.status_code == 201
    assert "contact_center" not in response.json()
    assert Interaction.objects.get().contact_center == "Help Desk"


def test_someone_who_left_the_company_no_longer_rings(hook, desk, company):  # noqa: F811
    center, people = desk
    people["Ben"].companies.remove(company)
    response = hook(
        {"channel": "call", "phone": "+12025550142", "contact_center": "Help Desk"}
    ).json()
    assert people["Ben"].email not in [r["agent"] for r in response["ring"]]
    assert [r["name"] for r in response["ring"]] == ["Ava Agent"]


def test_a_retry_replays_even_after_the_center_was_renamed(hook, desk):  # noqa: F811
    center, _ = desk
    payload = {"channel": "call", "phone": "+12025550142", "contact_center": "Help Desk"}
    first = hook(payload, **{"Idempotency-Key": "call-1"})
    center.name = "Help Desk EU"
    center.save()
    again = hook(payload, **{"Idempotency-Key": "call-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["interaction"] == first.json()["interaction"]


def test_a_name_wins_over_an_id_and_names_match_in_any_case(hook, desk, company):  # noqa: F811
    # given a second center named like the first one's id
    center, _ = desk
    named = ContactCenterFactory(company=company, name=str(center.pk))
    call = {"channel": "chat", "phone": "+12025550142"}
    # when calls name it by that number, and the first by its name in another case
    by_number = hook({**call, "contact_center": f" {center.pk} "})
    by_name = hook({**call, "contact_center": "HELP DESK"})
    # then the name wins over the id; names match whatever the case
    assert by_number.json()["contact_center"]["id"] == named.pk
    assert by_name.json()["contact_center"]["id"] == center.pk


def test_a_call_to_a_center_takes_five_statements(hook, desk, company, django_assert_num_queries):  # noqa: F811
    # given a known caller
    hook({"channel": "call", "phone": "+12025550142"})
    # when they call the center: the company by token; the contact locked (with the key's
    # interaction); the center by name or id; its members' facts (one statement whatever
    # their number); the queue item and the interaction (one statement on PostgreSQL, two
    # elsewhere) — plus the savepoint pair of the test's own transaction
    pair = 1 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(4 + pair + 2):
        response = hook(
            {
                "channel": "call",
                "phone": "+12025550142",
                "contact_center": "Help Desk",
                "call_type": "billing",
            }
        )
    assert response.status_code == 201
    assert [r["name"] for r in response.json()["ring"]] == ["Ben Agent", "Ava Agent"]


def test_a_skills_call_rings_only_members_ranked_for_its_type_and_shows_their_ranks(
    hook,  # noqa: F811
    desk,
    company,
):
    # given Sam, available with a ringing device but with no billing rank
    center, _ = desk
    sam = online(AgentFactory(companies=[company], full_name="Sam Supervisor"))
    DeviceFactory(agent=sam, label="Sam's laptop")
    center_add_members(center=center, agents=[sam], actor=None)
    # when a billing call comes in
    answer = hook(
        {
            "channel": "call",
            "phone": "+12025550142",
            "contact_center": "Help Desk",
            "call_type": "billing",
        }
    ).json()
    # then Ben (90) and Ava (40) ring with their ranks; Sam is left out, and says why
    assert [(r["name"], r["rank"]) for r in answer["ring"]] == [
        ("Ben Agent", 90),
        ("Ava Agent", 40),
    ]
    details = Interaction.objects.get(pk=answer["interaction"]).route_details
    assert details["excluded"][str(sam.pk)] == "no rank for billing"
    assert "without a rank for billing" in answer["reason"]


def test_a_call_to_a_center_that_is_not_skills_based_carries_no_rank(hook, desk):  # noqa: F811
    center, _ = desk
    center.routing_type = ContactCenter.RoutingType.LONGEST_IDLE
    center.save()
    answer = hook(
        {"channel": "call", "phone": "+12025550142", "contact_center": "Help Desk"}
    ).json()
    assert answer["ring"] and all("rank" not in r for r in answer["ring"])
