"""A deactivated agent is never picked by any path (issue 21, §4): one test per path. Each
sets up the path with a deactivated agent where an active one would be picked, and checks the
deactivated one is not. (Inbound owner-first texts are tested with the inbound routing.)"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from agents.centers.facts import SIMULTANEOUS
from agents.centers.selectors import center_available_count, center_ring_facts
from agents.centers.services import center_add_member
from campaigns.distribution import resolve_values
from campaigns.models import AgentKey, Campaign
from contacts.interactions import interaction_take
from contacts.models import Contact, Interaction
from contacts.services import contact_create
from leads.models import Lead, Product
from leads.orders import Line, order_create
from leads.services import lead_assign
from routing.dry_run import Outcome, group_dry_run, rule_dry_run
from routing.engine import ring_list
from routing.handover import agent_book_handover
from routing.models import Offer, Round, RoutingRule, RuleMember
from routing.rounds import offer_claim, reassignment_start
from routing.rules import contact_route_new
from tests.agents.factories_centers import ContactCenterFactory, DeviceFactory
from tests.factories import AgentFactory, ContactFactory, online
from tests.routing.helpers import book_of, group_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def gone(company):
    """Ava: first in every order (lowest id, first member), least loaded, and deactivated."""
    ava = AgentFactory(companies=[company], full_name="Ava Gone", email="ava@acme.test")
    online(ava)
    ava.is_active = False
    ava.save(update_fields=["is_active"])
    return ava


@pytest.fixture
def ben(company, gone):
    return online(AgentFactory(companies=[company], full_name="Ben Here", email="ben@acme.test"))


def new_contact(company, phone="+12025550142"):
    return contact_create(company=company, actor=None, name="Olivia Nguyen", phone=phone)


def rule_of(company, members, method):
    rule = RoutingRule.objects.create(company=company, name=method, method=method)
    for member in members:
        RuleMember.objects.create(rule=rule, agent=member)
    return rule


@pytest.mark.parametrize("method", ["round_robin", "least_loaded"])
def test_a_rule_never_gives_a_new_contact_to_a_deactivated_member(company, gone, ben, method):
    book_of(company, ben, 3)  # Ben is the more loaded: least loaded would pick Ava
    rule_of(company, [gone, ben], method)
    c = new_contact(company)
    contact_route_new(contact=c, channel="")
    assert Contact.objects.get(pk=c.pk).primary_agent == ben


def test_a_group_round_robin_never_picks_a_deactivated_member(company, gone, ben):
    group = group_of(company, [gone, ben], "round_robin")
    for k in range(3):
        round_ = reassignment_start(
            contact=new_contact(company, f"+120255501{k:02d}"), group=group, actor=None
        )
        assert round_.assigned_to == ben


def test_next_up_never_offers_a_deactivated_member(company, gone, ben):
    group = group_of(company, [gone, ben], "next_up")
    round_ = reassignment_start(contact=new_contact(company), group=group, actor=None)
    assert list(round_.offers.values_list("agent_id", flat=True)) == [ben.pk]
    assert gone.pk not in round_.queue


def test_first_to_claim_never_offers_and_refuses_the_claim_of_a_deactivated_member(company, ben):
    # given an offer made while Chloe still worked here
    chloe = online(AgentFactory(companies=[company], full_name="Chloe Leaving"))
    group = group_of(company, [chloe, ben], "first_to_claim")
    round_ = reassignment_start(contact=new_contact(company), group=group, actor=None)
    offer = round_.offers.get(agent=chloe)
    # when she is deactivated, her claim is refused
    chloe.is_active = False
    chloe.save(update_fields=["is_active"])
    with pytest.raises(ValidationError, match="deactivated"):
        offer_claim(offer_id=offer.pk, agent=chloe)
    assert Round.objects.get(pk=round_.pk).status == Round.Status.OPEN
    # and a new round does not offer it to her at all
    second = reassignment_start(
        contact=new_contact(company, "+12025550143"), group=group, actor=None
    )
    assert list(Offer.objects.filter(round=second).values_list("agent_id", flat=True)) == [ben.pk]


def test_a_deactivated_default_assignee_gets_nothing(company, gone):
    away = online(AgentFactory(companies=[company]), presence="away")
    group = group_of(company, [away], "round_robin", default_assignee=gone)
    round_ = reassignment_start(contact=new_contact(company), group=group, actor=None)
    assert round_.status == Round.Status.UNASSIGNED
    assert round_.assigned_to is None


def test_a_handover_plan_never_gives_a_contact_to_a_deactivated_member(company, gone, ben):
    leaver = online(AgentFactory(companies=[company]))
    book_of(company, leaver, 4)
    group = group_of(company, [gone, ben], "round_robin")
    agent_book_handover(company=company, agent=leaver, group=group, actor=None)
    owners = set(Contact.objects.filter(company=company).values_list("primary_agent", flat=True))
    assert owners == {ben.pk}


def test_the_dry_runs_never_name_a_deactivated_member(company, gone, ben):
    group = group_of(company, [gone, ben], "first_to_claim")
    dry = group_dry_run(contact=ContactFactory(company=company), group=group)
    assert dry.outcome == Outcome.OFFERED and dry.offered == [ben]
    rule = rule_of(company, [gone, ben], "round_robin")
    dry = rule_dry_run(company=company, rule=rule, phone="+12025550177")
    assert dry.agent == ben


def test_a_ring_list_never_rings_a_deactivated_member(company, ben):
    center = ContactCenterFactory(company=company, routing_type=SIMULTANEOUS)
    chloe = online(AgentFactory(companies=[company], full_name="Chloe Leaving"))
    for person in (chloe, ben):
        center_add_member(center=center, agent=person, actor=None)
        DeviceFactory(agent=person)
    chloe.is_active = False
    chloe.save(update_fields=["is_active"])
    center.company = company
    assert ring_list(center_ring_facts(center=center)).agent_ids == [ben.pk]
    assert center_available_count(center=center) == 1


def test_the_active_pool_refuses_a_deactivated_taker(company, gone):
    item = Interaction.objects.create(
        company=company,
        contact=ContactFactory(company=company),
        channel="text",
        pool="active",
        route_reason="test",
    )
    with pytest.raises(ValidationError):
        interaction_take(company=company, interaction_id=item.pk, agent=gone)
    item.refresh_from_db()
    assert item.routed_to_id is None


def test_campaign_records_of_a_deactivated_agent_are_errors(company, gone, ben):
    center = ContactCenterFactory(company=company)
    center_add_member(center=center, agent=ben, actor=None)
    campaign = Campaign(company=company, queue=center)
    keys = {k.value: k for k in resolve_values(campaign, [gone.email, str(gone.pk), ben.email])}
    assert keys[ben.email].error == AgentKey.Error.NONE
    assert keys[gone.email].agent_id is None and keys[gone.email].error != AgentKey.Error.NONE
    assert keys[str(gone.pk)].agent_id is None
    assert keys[str(gone.pk)].error != AgentKey.Error.NONE


def test_leads_are_never_assigned_to_a_deactivated_leads_agent(company):
    person = AgentFactory(companies=[company], access_level="leads_agent", is_active=False)
    customer = new_contact(company)
    product = Product.objects.create(company=company, name="Valuation", price=Decimal("100"))
    order_create(
        company=company,
        contact=customer,
        actor=None,
        status="partial",
        lines=[Line(product=product, quantity=1)],
        number="",
    )
    with pytest.raises(ValidationError):
        lead_assign(company=company, contact=customer, agent=person, actor=None)
    assert not Lead.objects.filter(agent=person).exists()
