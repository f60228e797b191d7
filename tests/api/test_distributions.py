"""Reassignment groups and routing rules, read over the API (what reassignment and the dry
run name by id)."""

import pytest

from api.models import Scope
from routing.models import GroupMember, ReassignmentGroup, RoutingRule, RuleMember
from tests.api.conftest import client_for
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def routing_setup(company):
    ava = AgentFactory(companies=[company], full_name="Ava Patel", email="ava@acme.test")
    ben = AgentFactory(companies=[company], full_name="Ben Okafor", email="ben@acme.test")
    group = ReassignmentGroup.objects.create(
        company=company, name="Closers", method="round_robin", default_assignee=ben
    )
    GroupMember.objects.create(group=group, agent=ava)
    GroupMember.objects.create(group=group, agent=ben)
    rule = RoutingRule.objects.create(
        company=company, name="Website leads", method="first_to_claim", sources="website"
    )
    RuleMember.objects.create(rule=rule, agent=ava)
    return ava, ben, group, rule


def test_groups_list_their_method_default_assignee_and_members(company, routing_setup):
    # given
    ava, ben, group, _ = routing_setup
    # when
    listed = client_for(company, scopes=[Scope.READ]).get("/api/v1/groups/").json()["results"]
    # then
    assert listed == [
        {
            "id": group.pk,
            "name": "Closers",
            "method": "round_robin",
            "default_assignee": {"id": ben.pk, "email": "ben@acme.test", "name": "Ben Okafor"},
            "claim_window_minutes": group.claim_window_minutes,
            "skip_unavailable": group.skip_unavailable,
            "members": [
                {"id": ava.pk, "email": "ava@acme.test", "name": "Ava Patel"},
                {"id": ben.pk, "email": "ben@acme.test", "name": "Ben Okafor"},
            ],
        }
    ]


def test_a_rule_reads_with_its_conditions(company, routing_setup):
    _, _, _, rule = routing_setup
    answer = client_for(company, scopes=[Scope.READ]).get(f"/api/v1/rules/{rule.pk}/").json()
    assert answer["name"] == "Website leads"
    assert answer["method"] == "first_to_claim"
    assert answer["sources"] == "website"
    assert [m["email"] for m in answer["members"]] == ["ava@acme.test"]


def test_another_companys_key_sees_none_of_them(company, other_company, routing_setup):
    _, _, group, rule = routing_setup
    theirs = client_for(other_company)
    assert theirs.get("/api/v1/groups/").json()["results"] == []
    assert theirs.get("/api/v1/rules/").json()["results"] == []
    assert theirs.get(f"/api/v1/groups/{group.pk}/").status_code == 404
    assert theirs.get(f"/api/v1/rules/{rule.pk}/").status_code == 404


def test_the_lists_take_the_same_queries_for_many_groups(
    company, routing_setup, django_assert_num_queries
):
    # given ten more groups with members
    ava, ben, _, _ = routing_setup
    for n in range(10):
        g = ReassignmentGroup.objects.create(company=company, name=f"G{n}", method="next_up")
        GroupMember.objects.create(group=g, agent=ava)
    api = client_for(company, scopes=[Scope.READ])
    api.get("/api/v1/groups/")  # the key's first use notes its last-used time
    # then: the key and its company, the page, the members with their agents
    with django_assert_num_queries(3):
        assert api.get("/api/v1/groups/").status_code == 200
