"""The campaign dashboard and the workload page, live: who may hear them, what is published
when progress, queues and leads change (after commit, once per stream), and their fragments."""

from decimal import Decimal

import pytest
from django.db import transaction

from agents.live import live_token_read, stream_campaign, stream_workload
from campaigns.models import Entry
from campaigns.services import campaign_pause, campaign_start
from campaigns.work import entry_call, entry_next, entry_skip
from contacts.services import contact_create
from leads.models import Order, Product
from leads.orders import Line, order_create
from leads.services import lead_assign, lead_unassign
from tests.campaigns.helpers import make_campaign, queue_with
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ava(company):
    return AgentFactory(email="ava@acme.test", full_name="Ava Patel", companies=[company])


@pytest.fixture
def campaign(company, ava):
    queue = queue_with(company, ava)
    return make_campaign(company, queue, [("ava@acme.test", str(i)) for i in range(5)])


def _token(html: str, root: str) -> str:
    return html.split(f'id="{root}" data-live="', 1)[1].split('"', 1)[0]


def _sent(published) -> list:
    return [key for keys in published for key in keys]


# --- the campaign dashboard ----------------------------------------------------------------
def test_the_dashboard_signs_its_campaign_for_the_supervisor(login, supervisor, campaign, company):
    html = login(supervisor).get(f"/campaigns/{campaign.pk}/dashboard/").content.decode()
    token = _token(html, "campaign-dashboard")
    assert live_token_read(token, user_id=supervisor.pk, company_id=company.pk) == (
        stream_campaign(campaign.pk),
    )


def test_agents_and_other_companies_get_no_dashboard_nor_fragment(
    login, ava, other_admin, campaign
):
    agent_client = login(ava)
    for url in (
        f"/campaigns/{campaign.pk}/dashboard/",
        f"/campaigns/{campaign.pk}/dashboard/live/",
    ):
        assert agent_client.get(url).status_code == 403
    other = login(other_admin)
    for url in (
        f"/campaigns/{campaign.pk}/dashboard/",
        f"/campaigns/{campaign.pk}/dashboard/live/",
    ):
        assert other.get(url).status_code == 404


def test_a_start_of_many_records_publishes_once(
    campaign, company, published, django_capture_on_commit_callbacks
):
    # when the campaign starts (five records distributed in one statement)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign=campaign)
    # then one publish: the campaign's dashboard and the company's workload, once each
    assert published == [
        [(company.pk, stream_campaign(campaign.pk)), (company.pk, stream_workload(company.pk))]
    ]
    assert Entry.objects.filter(campaign=campaign, state=Entry.State.QUEUED).count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_skip_publishes_after_commit_and_a_call_does_not(campaign, ava, company, published):
    campaign_start(campaign=campaign)
    entry = entry_next(campaign=campaign, agent=ava)
    published.clear()
    # a call changes no count: nothing to publish for the dashboards
    entry_call(entry_id=entry.pk, agent=ava)
    assert (company.pk, stream_campaign(campaign.pk)) not in _sent(published)
    assert (company.pk, stream_workload(company.pk)) not in _sent(published)
    published.clear()
    # a skip: the dashboard and the workload (records pending per agent), once each
    entry_skip(entry_id=entry.pk, agent=ava)
    sent = _sent(published)
    assert sent.count((company.pk, stream_campaign(campaign.pk))) == 1
    assert sent.count((company.pk, stream_workload(company.pk))) == 1


def test_a_rolled_back_skip_publishes_nothing(
    campaign, ava, published, django_capture_on_commit_callbacks
):
    campaign_start(campaign=campaign)
    entry = entry_next(campaign=campaign, agent=ava)
    published.clear()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        entry_skip(entry_id=entry.pk, agent=ava)
        raise RuntimeError("rolled back")
    assert published == []
    assert Entry.objects.get(pk=entry.pk).state == Entry.State.RESERVED


def test_a_pause_tells_the_dashboard_but_not_the_workload(
    campaign, company, published, django_capture_on_commit_callbacks
):
    campaign_start(campaign=campaign)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        campaign_pause(campaign=campaign)
    # (records of a paused campaign are still pending on the workload page)
    assert published == [[(company.pk, stream_campaign(campaign.pk))]]


def test_the_dashboard_fragment_has_the_pages_parts(login, supervisor, campaign, ava):
    campaign_start(campaign=campaign)
    entry_skip(entry_id=entry_next(campaign=campaign, agent=ava).pk, agent=ava)
    response = login(supervisor).get(f"/campaigns/{campaign.pk}/dashboard/live/")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="campaign-head"' in html and 'id="campaign-progress"' in html
    # the buttons carry the status: the page swaps them only when it changed
    assert 'id="campaign-manage" data-live-part data-live-key="running"' in html
    assert '<span class="stat-value" id="total-skipped">1</span>' in html


# --- the workload page ---------------------------------------------------------------------
def test_the_workload_page_signs_its_company_for_staff_only(
    login, supervisor, ava, company, other_admin, other_company
):
    html = login(supervisor).get("/workload/").content.decode()
    token = _token(html, "workload-page")
    assert live_token_read(token, user_id=supervisor.pk, company_id=company.pk) == (
        stream_workload(company.pk),
    )
    # an agent gets neither the page nor its fragment
    agent_client = login(ava)
    assert agent_client.get("/workload/").status_code == 403
    assert agent_client.get("/lead-center/workload/live/").status_code == 403
    # another company's admin gets their own company's, never this one's
    other = login(other_admin)
    html = other.get("/workload/").content.decode()
    assert live_token_read(
        _token(html, "workload-page"), user_id=other_admin.pk, company_id=other_company.pk
    ) == (stream_workload(other_company.pk),)
    fragment = other.get("/lead-center/workload/live/").content.decode()
    assert "Ava Patel" not in fragment and "Gus Globex" in fragment


def test_the_workload_fragment_keeps_sort_and_period_with_the_pages_queries(
    login, supervisor, company, campaign, django_assert_num_queries
):
    campaign_start(campaign=campaign)
    client = login(supervisor)
    client.get("/workload/")  # the last-seen write, once a minute: not counted
    # the page's twelve (tests/desk/test_workload.py) but the company picker's
    with django_assert_num_queries(11):
        response = client.get("/lead-center/workload/live/", {"period": "30d", "sort": "-open"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="workload-live" data-live-part' in html
    assert 'aria-current="true">Last 30 days<' in html
    assert '<td class="num campaign-pending">5</td>' in html


@pytest.mark.django_db(transaction=True)
def test_leads_changes_publish_the_workload_once_per_commit(company, leads_agent, published):
    # (real commits: in one test transaction the two changes would be one commit)
    # given a customer whose latest order is Partial (a lead to be)
    customer = contact_create(company=company, actor=None, name="Olivia", phone="+12025551001")
    product = Product.objects.create(company=company, name="Valuation", price=Decimal("100"))
    order_create(
        company=company,
        contact=customer,
        actor=None,
        status=Order.Status.PARTIAL,
        lines=[Line(product=product, quantity=1)],
    )
    published.clear()
    # when it is assigned, then unassigned: the workload page's open leads, once each time
    lead = lead_assign(company=company, contact=customer, agent=leads_agent, actor=None)
    assert _sent(published).count((company.pk, stream_workload(company.pk))) == 1
    published.clear()
    lead_unassign(lead=lead, actor=None)
    assert _sent(published).count((company.pk, stream_workload(company.pk))) == 1
