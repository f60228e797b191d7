"""An agent who leaves (issue 21, §4): deactivation asks what happens to their book, open items,
open leads and campaign records, moves each through its app's service, and leaves nothing with
someone who can no longer log in (``desk/leaving.py``, the Agent admin's page)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from agents.models import AccessLevel, Agent
from api.resources.agents import AgentDetail, AgentList, AgentPresence
from campaigns import selectors as campaign_selectors
from campaigns.models import Entry
from campaigns.services import campaign_start
from contacts.models import Contact, Interaction, TimelineEntry
from contacts.services import contact_create
from desk.leaving import Plan, agent_deactivate, leaver_holdings
from leads.models import Lead, Order, Product
from leads.orders import Line, order_create
from leads.services import lead_assign
from routing.models import Method, Offer, Round
from routing.rounds import reassignment_start, round_expire
from tests.campaigns.helpers import make_campaign, queue_with
from tests.factories import AgentFactory, online
from tests.routing.helpers import book_of, group_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def ava(company):
    return AgentFactory(email="ava@acme.test", full_name="Ava Patel", companies=[company])


@pytest.fixture
def ben(company):
    return online(AgentFactory(email="ben@acme.test", full_name="Ben Okafor", companies=[company]))


@pytest.fixture
def cleo(company):
    return online(AgentFactory(email="cleo@acme.test", full_name="Cleo Ng", companies=[company]))


@pytest.fixture
def make_customer(company):
    made = iter(range(1, 1000))

    def _make():
        n = next(made)
        return contact_create(
            company=company, actor=None, name=f"Customer {n}", phone=f"+1 202 555 {1000 + n:04d}"
        )

    return _make


@pytest.fixture
def make_order(company):
    product = Product.objects.create(company=company, name="Valuation", price=100)

    def _order(contact):
        return order_create(
            company=company,
            contact=contact,
            actor=None,
            status=Order.Status.PARTIAL,
            lines=[Line(product=product, quantity=1)],
        )

    return _order


def open_item(company, contact, agent, channel="text"):
    return Interaction.objects.create(
        company=company,
        contact=contact,
        channel=channel,
        body="Hello?",
        routed_to=agent,
        route_reason=f"Sent to {agent}, the contact's primary agent, who is available.",
    )


def records_of(company, agent, n=2):
    queue = queue_with(company, agent)
    campaign = make_campaign(company, queue, [(agent.email, str(k)) for k in range(n)])
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def assert_nothing_left(company, agent):
    agent.refresh_from_db()
    assert not agent.is_active
    assert not Contact.objects.filter(primary_agent=agent).exists()
    assert not Interaction.objects.filter(routed_to=agent, status="open").exists()
    assert not Lead.objects.filter(agent=agent, status=Lead.Status.OPEN).exists()
    assert leaver_holdings(company=company, agent=agent).nothing


# --- The service --------------------------------------------------------------------------------
def test_deactivating_hands_the_book_to_one_agent_items_to_active_records_to_the_error_page(
    company, company_admin, ava, ben
):
    # given Ava owns three contacts, has two open texts in her Mine and two campaign records
    book = book_of(company, ava, 3)
    items = [open_item(company, book[0], ava), open_item(company, book[1], ava)]
    campaign = records_of(company, ava)
    # when the admin deactivates her, handing her book to Ben
    report = agent_deactivate(company=company, agent=ava, book_to_agent=ben, actor=company_admin)
    # then Ben owns her contacts, each with a timeline row saying why
    assert set(Contact.objects.filter(primary_agent=ben)) == set(book)
    row = TimelineEntry.objects.filter(contact=book[2]).order_by("-pk").first()
    assert "Ava Patel was deactivated" in str(row.details) + row.message
    # and her texts wait in Active for every available agent
    for item in items:
        item.refresh_from_db()
        assert (item.routed_to_id, item.pool) == (None, Interaction.Pool.ACTIVE)
        assert "Ava Patel was deactivated" in item.route_reason
    # and her records are listed on the campaign's error page
    errors = campaign_selectors.error_entries(campaign)
    assert errors.count() == 2
    assert not Entry.objects.filter(campaign=campaign, agent=ava, state="queued").exists()
    # and she has nothing left, and the report says it all
    assert_nothing_left(company, ava)
    lines = " ".join(report.companies[0].lines())
    assert "3 contact(s) handed over to Ben Okafor" in lines
    assert "2 open item(s) moved to Active" in lines
    assert "2 campaign record(s) listed" in lines
    assert report.stranded == []


def test_a_round_robin_group_shares_the_book_and_never_gives_the_leaver_their_own(
    company, company_admin, ava, ben, cleo
):
    # given a round robin group with Ava, Ben and Cleo, and Ava owning four contacts
    online(ava)
    group = group_of(company, [ava, ben, cleo], Method.ROUND_ROBIN)
    book_of(company, ava, 4)
    # when Ava is deactivated with her book through the group
    agent_deactivate(company=company, agent=ava, book_to_group=group, actor=company_admin)
    # then Ben and Cleo own two each and Ava none
    assert Contact.objects.filter(primary_agent=ben).count() == 2
    assert Contact.objects.filter(primary_agent=cleo).count() == 2
    assert_nothing_left(company, ava)


def test_contacts_nobody_in_the_group_can_take_are_left_without_a_primary_agent(
    company, company_admin, ava, ben
):
    # given a round robin group whose only other member is away, and no default assignee
    online(ben, presence="away")
    group = group_of(company, [ava, ben], Method.ROUND_ROBIN)
    book = book_of(company, ava, 2)
    # when Ava is deactivated through it
    report = agent_deactivate(company=company, agent=ava, book_to_group=group, actor=company_admin)
    # then her contacts are nobody's (their texts go to Active), not hers
    assert set(Contact.objects.filter(pk__in=[c.pk for c in book], primary_agent=None)) == set(book)
    assert report.companies[0].contacts_cleared == 2
    assert_nothing_left(company, ava)


def test_a_claim_based_group_without_a_default_assignee_is_refused_and_nothing_changes(
    company, company_admin, ava, ben
):
    # given a first-to-claim group without a default assignee
    group = group_of(company, [ben], Method.FIRST_TO_CLAIM)
    book_of(company, ava, 2)
    # when the admin tries to deactivate Ava through it
    with pytest.raises(ValidationError) as refused:
        agent_deactivate(company=company, agent=ava, book_to_group=group, actor=company_admin)
    # then they are told why, and Ava is still active with her contacts
    message = " ".join(refused.value.message_dict[f"{company.pk}-book_to_group"])
    assert "has no default assignee" in message and "would stay with Ava Patel" in message
    ava.refresh_from_db()
    assert ava.is_active
    assert Contact.objects.filter(primary_agent=ava).count() == 2


def test_a_claim_based_group_with_a_default_assignee_offers_then_gives_the_book_away(
    company, company_admin, ava, ben, cleo
):
    # given a first-to-claim group of Ben with Cleo as its default assignee
    group = group_of(company, [ben], Method.FIRST_TO_CLAIM, default_assignee=cleo)
    book_of(company, ava, 2)
    # when Ava is deactivated through it
    report = agent_deactivate(company=company, agent=ava, book_to_group=group, actor=company_admin)
    assert report.companies[0].contacts_offered == 2
    assert report.stranded == []  # offered contacts are the rounds' to give away
    # and nobody claims before the window ends
    past = timezone.now() - timedelta(seconds=1)
    Round.objects.update(deadline_at=past)
    Offer.objects.update(expires_at=past)
    for round_ in Round.objects.filter(status=Round.Status.OPEN):
        round_expire(round_id=round_.pk)
    # then the default assignee has them, Ava nothing
    assert Contact.objects.filter(primary_agent=cleo).count() == 2
    assert_nothing_left(company, ava)


def test_an_agent_with_contacts_cannot_be_deactivated_without_saying_where_they_go(
    company, company_admin, ava
):
    book_of(company, ava, 1)
    with pytest.raises(ValidationError) as refused:
        agent_deactivate(company=company, agent=ava, actor=company_admin)
    assert "choose a reassignment group or one agent" in str(refused.value)
    ava.refresh_from_db()
    assert ava.is_active


def test_refused_while_some_of_their_contacts_are_being_re_assigned(
    company, company_admin, ava, ben, cleo
):
    # given one of Ava's contacts is in a first-to-claim round someone started
    claims = group_of(company, [ben], Method.FIRST_TO_CLAIM)
    book = book_of(company, ava, 2)
    reassignment_start(contact=book[0], group=claims, actor=company_admin)
    # when the admin deactivates her
    with pytest.raises(ValidationError) as refused:
        agent_deactivate(company=company, agent=ava, book_to_agent=cleo, actor=company_admin)
    # then they are told to wait for that round
    assert "being re-assigned" in str(refused.value)
    ava.refresh_from_db()
    assert ava.is_active


def test_open_leads_are_handed_to_one_leads_agent_or_unassigned(
    company, company_admin, make_customer, make_order
):
    # given Lea, a Leads Agent, has two open leads; Leo is another Leads Agent
    lea = AgentFactory(
        access_level=AccessLevel.LEADS_AGENT, companies=[company], full_name="Lea Leads"
    )
    leo = AgentFactory(
        access_level=AccessLevel.LEADS_AGENT, companies=[company], full_name="Leo Second"
    )
    customers = [make_customer(), make_customer()]
    for customer in customers:
        make_order(customer)
        lead_assign(company=company, contact=customer, agent=lea, actor=company_admin)
    # when she is deactivated with her leads to Leo
    report = agent_deactivate(company=company, agent=lea, leads_to=leo, actor=company_admin)
    # then Leo has both, Lea none; her old leads say they were unassigned
    assert Lead.objects.filter(agent=leo, status=Lead.Status.OPEN).count() == 2
    assert Lead.objects.filter(agent=lea, status=Lead.Status.UNASSIGNED).count() == 2
    assert report.companies[0].leads_handed == 2
    assert_nothing_left(company, lea)


def test_open_leads_left_unassigned_by_default(company, company_admin, make_customer, make_order):
    lea = AgentFactory(access_level=AccessLevel.LEADS_AGENT, companies=[company])
    customer = make_customer()
    make_order(customer)
    lead_assign(company=company, contact=customer, agent=lea, actor=company_admin)
    report = agent_deactivate(company=company, agent=lea, actor=company_admin)
    assert report.companies[0].leads_unassigned == 1
    assert not Lead.objects.filter(status=Lead.Status.OPEN).exists()
    assert_nothing_left(company, lea)


def test_the_leads_cannot_go_to_someone_who_is_no_leads_agent(company, company_admin, ben):
    lea = AgentFactory(access_level=AccessLevel.LEADS_AGENT, companies=[company])
    with pytest.raises(ValidationError) as refused:
        agent_deactivate(company=company, agent=lea, leads_to=ben, actor=company_admin)
    assert "leads go to Leads Agents only" in str(refused.value)


def test_an_admin_cannot_deactivate_themselves(company, company_admin):
    with pytest.raises(ValidationError, match="cannot deactivate yourself"):
        agent_deactivate(company=company, agent=company_admin, actor=company_admin)


def test_an_agent_of_two_companies_needs_a_plan_for_each(
    company, other_company, company_admin, ben
):
    # given Sam works for Acme and Globex
    sam = AgentFactory(full_name="Sam Both", companies=[company, other_company])
    # when only Acme's work is planned, then it is refused, without naming Globex to
    # Acme's admin (a superuser is told which)
    with pytest.raises(ValidationError, match="also works for another company"):
        agent_deactivate(company=company, agent=sam, actor=company_admin)
    superuser = AgentFactory(is_superuser=True)
    with pytest.raises(ValidationError, match="also works for Globex"):
        agent_deactivate(company=company, agent=sam, actor=superuser)
    # and with both companies planned it goes through
    book_of(other_company, sam, 1)
    globex_ben = online(AgentFactory(companies=[other_company], full_name="Gina Globex"))
    agent_deactivate(
        company=company,
        agent=sam,
        actor=None,
        elsewhere=[Plan(company=other_company, book_to_agent=globex_ben)],
    )
    assert_nothing_left(other_company, sam)
    assert Contact.objects.get(company=other_company).primary_agent == globex_ben


def test_running_it_again_finishes_what_an_inactive_agent_still_has(
    company, company_admin, ava, ben
):
    # given Ava was made inactive some other way and still owns a contact and an item
    book = book_of(company, ava, 1)
    open_item(company, book[0], ava)
    Agent.objects.filter(pk=ava.pk).update(is_active=False)
    ava.refresh_from_db()
    # when the page's step runs for her
    agent_deactivate(company=company, agent=ava, book_to_agent=ben, actor=company_admin)
    # then nothing is left with her
    assert_nothing_left(company, ava)


def test_a_deactivated_agent_is_offered_nothing_more(company, company_admin, ava, ben):
    # given Ava holds an open offer of a first-to-claim round
    claims = group_of(company, [online(ava), ben], Method.FIRST_TO_CLAIM)
    someone = book_of(company, ben, 1)[0]
    reassignment_start(contact=someone, group=claims, actor=company_admin)
    assert Offer.objects.filter(agent=ava, status="open").exists()
    # when she is deactivated, then her offer is withdrawn, Ben's stays
    report = agent_deactivate(company=company, agent=ava, actor=company_admin)
    assert not Offer.objects.filter(agent=ava, status="open").exists()
    assert report.companies[0].offers_withdrawn == 1


# --- The admin ---------------------------------------------------------------------------------
def change_form(agent, **extra):
    data = {
        "email": agent.email,
        "full_name": agent.full_name,
        "access_level": agent.access_level,
        "is_active": "on",
        "line-TOTAL_FORMS": "1",
        "line-INITIAL_FORMS": "0",
        "line-0-license": "ai_contact_center",
        "devices-TOTAL_FORMS": "0",
        "devices-INITIAL_FORMS": "0",
        "absences-TOTAL_FORMS": "0",
        "absences-INITIAL_FORMS": "0",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def test_unchecking_active_saves_the_rest_and_asks_on_the_page_instead(login, company_admin, ava):
    client = login(company_admin)
    # when the admin unchecks Active and renames her
    response = client.post(
        f"/admin/agents/agent/{ava.pk}/change/",
        change_form(ava, is_active=None, full_name="Ava P. Patel"),
    )
    # then they land on the deactivation page, the rename saved, Ava still active
    assert response.status_code == 302
    assert response.url == reverse("admin:agents_agent_deactivate", args=[ava.pk])
    ava.refresh_from_db()
    assert (ava.full_name, ava.is_active) == ("Ava P. Patel", True)


def test_the_page_says_what_they_have_and_deactivates_with_a_message(
    login, company, company_admin, ava, ben
):
    book = book_of(company, ava, 2)
    open_item(company, book[0], ava)
    client = login(company_admin)
    url = reverse("admin:agents_agent_deactivate", args=[ava.pk])
    # the page lists her contacts and items
    page = client.get(url).content.decode()
    assert "<strong>2</strong> contacts they are the primary agent of" in page
    assert "<strong>1</strong> open item in their Mine" in page
    # posting without a choice for her book is refused on the page
    refused = client.post(url, {})
    assert "choose a reassignment group or one agent" in refused.content.decode()
    ava.refresh_from_db()
    assert ava.is_active
    # with Ben chosen it deactivates her and says what moved
    done = client.post(url, {f"{company.pk}-book_to_agent": ben.pk}, follow=True)
    text = done.content.decode()
    assert "Ava Patel is deactivated" in text
    assert "2 contact(s) handed over to Ben Okafor" in text
    assert_nothing_left(company, ava)


def test_the_list_action_leads_to_the_page_for_one_agent(login, company_admin, ava, ben):
    client = login(company_admin)
    one = client.post(
        "/admin/agents/agent/", {"action": "deactivate", "_selected_action": [ava.pk]}
    )
    assert one.url == reverse("admin:agents_agent_deactivate", args=[ava.pk])
    two = client.post(
        "/admin/agents/agent/",
        {"action": "deactivate", "_selected_action": [ava.pk, ben.pk]},
        follow=True,
    )
    assert "Choose one agent to deactivate" in two.content.decode()
    ava.refresh_from_db()
    assert ava.is_active


def test_a_company_admin_is_told_why_they_cannot_deactivate_a_shared_agent(
    login, company_admin, other_company
):
    sam = AgentFactory(
        full_name="Sam Both", companies=[company_admin.companies.get(), other_company]
    )
    client = login(company_admin)
    url = reverse("admin:agents_agent_deactivate", args=[sam.pk])
    page = client.get(url).content.decode()
    assert "also works for another company, which you don't administer" in page
    assert "Globex" not in page  # (who else they work for is not Acme's admin's to know)
    client.post(url, {})
    sam.refresh_from_db()
    assert sam.is_active


def test_a_superuser_covers_every_company_of_a_shared_agent_on_one_page(
    login, company, other_company, ben
):
    root = AgentFactory(is_superuser=True, access_level=AccessLevel.ADMIN, companies=[company])
    sam = AgentFactory(full_name="Sam Both", companies=[company, other_company])
    book_of(other_company, sam, 1)
    gina = AgentFactory(companies=[other_company], full_name="Gina Globex")
    client = login(root)
    url = reverse("admin:agents_agent_deactivate", args=[sam.pk])
    page = client.get(url).content.decode()
    assert "<h2>Acme</h2>" in page and "<h2>Globex</h2>" in page
    client.post(url, {f"{other_company.pk}-book_to_agent": gina.pk})
    assert_nothing_left(other_company, sam)


def test_the_api_has_no_way_to_deactivate_an_agent():
    # The agents' endpoints: a list, a detail (read) and presence; none writes is_active.
    assert {m for m in ("put", "patch", "post", "delete") if hasattr(AgentDetail, m)} == set()
    assert not any(hasattr(AgentList, m) for m in ("post", "put", "patch", "delete"))
    assert "is_active" not in AgentPresence.serializer_class().fields


def test_a_superuser_deactivates_a_superuser_and_an_agent_of_no_company(login, company):
    # given a superuser, another superuser, and an agent who works for no company
    boss = AgentFactory(is_superuser=True, companies=[company])
    other_boss = AgentFactory(is_superuser=True)
    loner = AgentFactory()
    client = login(boss)
    # when the superuser deactivates each from its page
    for target in (other_boss, loner):
        response = client.post(reverse("admin:agents_agent_deactivate", args=[target.pk]), {})
        # then it is done (no plan is needed: nothing to hand over), no error page
        assert response.status_code == 302, response.content.decode()[:300]
        target.refresh_from_db()
        assert not target.is_active
