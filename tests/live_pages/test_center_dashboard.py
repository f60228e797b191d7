"""A center's dashboard, live (desk/workload.py): who may hear it, what is published when its
queue, rings, members and alerts change, and the fragment the page swaps in."""

import pytest
from django.core import signing
from django.db import transaction

from agents.centers.alerts import center_alerts_evaluate
from agents.centers.models import CenterAlertState, CenterMembership
from agents.centers.services import center_add_member, center_record_ring_outcome
from agents.live import TOKEN_SALT, live_token_read, stream_center, stream_workload
from contacts.interactions import interaction_take
from routing.inbound import inbound_receive
from tests.agents.factories_centers import ContactCenterFactory
from tests.agents.test_centers_pages import member
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db
Role = CenterMembership.Role


@pytest.fixture
def center(company):
    return ContactCenterFactory(company=company, name="Support")


@pytest.fixture
def boss(center, company):
    person = AgentFactory(companies=[company], email="boss@acme.test", full_name="Bo Boss")
    member(center, person, Role.SUPERVISOR)
    return person


def _token(html: str) -> str:
    return html.split('id="center-dashboard" data-live="', 1)[1].split('"', 1)[0]


def test_the_page_signs_the_center_and_the_workload_for_its_supervisor(
    client, center, boss, company
):
    # when the center's supervisor opens the dashboard
    client.force_login(boss)
    html = client.get(f"/centers/{center.pk}/dashboard/").content.decode()
    # then its token names the center and the company's workload, for them and this company
    token = _token(html)
    streams = live_token_read(token, user_id=boss.pk, company_id=company.pk)
    assert set(streams) == {stream_center(center.pk), stream_workload(company.pk)}
    assert f'data-live-url="/centers/{center.pk}/dashboard/live/"' in html
    # and nobody else may use it
    with pytest.raises(Exception, match="someone else"):
        live_token_read(token, user_id=boss.pk + 1, company_id=company.pk)


def test_an_agent_without_the_right_gets_neither_the_page_nor_the_fragment(client, center, agent):
    # given a plain member of the center (role Agent: no dashboard right)
    member(center, agent, Role.AGENT)
    client.force_login(agent)
    # then both answer 403 and no token is handed out
    page = client.get(f"/centers/{center.pk}/dashboard/")
    fragment = client.get(f"/centers/{center.pk}/dashboard/live/")
    assert page.status_code == 403 and fragment.status_code == 403
    assert b"data-live=" not in page.content + fragment.content


def test_another_companys_admin_finds_no_such_center(client, center, other_admin):
    client.force_login(other_admin)
    assert client.get(f"/centers/{center.pk}/dashboard/").status_code == 404
    assert client.get(f"/centers/{center.pk}/dashboard/live/").status_code == 404


def test_a_taken_call_publishes_the_center_once_after_commit(
    center, boss, company, published, django_capture_on_commit_callbacks
):
    # given a call waiting in the center's queue, and Ana, an available member
    ana = online(AgentFactory(companies=[company], email="ana@acme.test", full_name="Ana"))
    center_add_member(center=center, agent=ana, actor=None)
    call, _ = inbound_receive(
        company=company, channel="call", phone="+12125550101", contact_center="Support"
    )
    published.clear()
    # when Ana takes it (the take records the ring outcome too: two writers, one commit)
    with django_capture_on_commit_callbacks(execute=True):
        interaction_take(company=company, interaction_id=call.pk, agent=ana)
    # then the center's stream went out exactly once (and no stream twice)
    sent = [key for call_keys in published for key in call_keys]
    assert sent.count((company.pk, stream_center(center.pk))) == 1
    assert len(sent) == len(set(sent))


def test_a_rolled_back_ring_outcome_publishes_nothing(
    center, boss, company, published, django_capture_on_commit_callbacks
):
    ana = AgentFactory(companies=[company])
    center_add_member(center=center, agent=ana, actor=None)
    published.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        center_record_ring_outcome(center=center, agent=ana, outcome="missed")
        raise RuntimeError("the caller's transaction fails")
    assert published == [] and callbacks == []


def test_an_alert_publishes_when_it_trips_and_not_while_it_stays(
    center, boss, company, published, django_capture_on_commit_callbacks
):
    # given an alert below 1 available member (nobody is available)
    center.alert_min_available = 1
    center.save()
    # when it is evaluated twice
    with django_capture_on_commit_callbacks(execute=True):
        center_alerts_evaluate(center=center)
    first = list(published)
    with django_capture_on_commit_callbacks(execute=True):
        center_alerts_evaluate(center=center)
    # then only the breach's start was published
    assert first == [[(company.pk, stream_center(center.pk))]]
    assert published == first
    assert CenterAlertState.objects.get(center=center).breached


def test_adding_members_publishes_the_center_once(
    center, company, published, django_capture_on_commit_callbacks
):
    people = AgentFactory.create_batch(3, companies=[company])
    from agents.centers.services import center_add_members

    with django_capture_on_commit_callbacks(execute=True):
        center_add_members(center=center, agents=people, actor=None)
    assert published == [[(company.pk, stream_center(center.pk))]]


def test_the_fragment_shows_the_change_with_constant_queries(
    client, center, boss, company, django_assert_num_queries
):
    # given a call waiting, read once (the middleware's last-seen write is then done)
    client.force_login(boss)
    client.get(f"/centers/{center.pk}/dashboard/live/")
    for n in range(3):
        inbound_receive(
            company=company, channel="call", phone=f"+1212555020{n}", contact_center="Support"
        )
        center_add_member(center=center, agent=AgentFactory(companies=[company]), actor=None)
    # session, user, current company (middleware: 3); center (1); the user's rights in it
    # (2); members with presence (1); their absences now (1); workload rows (1); queue (1);
    # recent calls (1); members on a live call (1); alert states (1)
    with django_assert_num_queries(13):
        response = client.get(f"/centers/{center.pk}/dashboard/live/")
    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    # every part the page swaps, by its id, and the three calls waiting
    for part in ("dashboard-routing", "updated-at", "dashboard-alerts", "dashboard-stats",
                 "dashboard-members", "dashboard-activity"):  # fmt: skip
        assert f'id="{part}"' in html
    assert '<span class="stat-value" id="waiting">3</span>' in html
    assert "<html" not in html  # a fragment, not a page


def test_a_token_is_not_a_token_for_another_company(client, center, boss, company, other_company):
    # given the supervisor also works for another company
    boss.companies.add(other_company)
    client.force_login(boss)
    token = _token(client.get(f"/centers/{center.pk}/dashboard/").content.decode())
    # then the socket refuses it in the other company's session (signed for this one)
    with pytest.raises(Exception, match="someone else"):
        live_token_read(token, user_id=boss.pk, company_id=other_company.pk)
    # and its content cannot be edited without breaking the signature
    data = signing.loads(token, salt=TOKEN_SALT)
    assert data["c"] == company.pk
