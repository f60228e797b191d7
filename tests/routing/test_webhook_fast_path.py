"""The webhook's fast path (issue 12): /api/ skips the browser middleware but keeps the
security headers; the token is looked up on every call (rotation takes effect at once); the
contact's lock reads the primary agent's eligibility as ``eligible_primary_agents`` does."""

import json
from datetime import date, timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from agents.availability.hours import DAY_LABELS
from agents.availability.models import Absence, Holiday
from agents.models import AccessLevel, Agent
from agents.selectors import eligible_primary_agents
from agents.services import company_rotate_webhook_token, company_set_webhook_token
from contacts.locks import lock_contact_for_inbound
from contacts.models import Interaction
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db

TOKEN = "sbw_test_token_fast"
TEXT = {"channel": "text", "phone": "+12025550142", "body": "Still free?"}


@pytest.fixture
def hook(client, company):
    company_set_webhook_token(company=company, token=TOKEN)

    def _post(payload=TEXT, token=TOKEN, **headers):
        return client.post(
            "/api/inbound/",
            data=json.dumps(payload),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}", **headers},
        )

    return _post


def test_the_webhook_skips_session_and_auth_but_keeps_the_security_headers(hook, login, agent):
    # given an agent logged in on this client, last seen a while ago
    login(agent)
    Agent.objects.filter(pk=agent.pk).update(last_seen_at=timezone.now() - timedelta(days=1))
    # when the webhook is called with the session cookie along
    response = hook()
    # then it is answered without the browser's middleware: no session, no user, no cookie
    assert response.status_code == 201
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "user")
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies
    # (the company middleware did not run: the agent's presence was not touched)
    agent.refresh_from_db()
    assert agent.last_seen_at < timezone.now() - timedelta(hours=23)
    # and the security headers are all there
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_pages_still_get_the_whole_middleware(client, login, agent):
    # when a page is asked for (not /api/)
    response = login(agent).get("/lead-center/")
    # then the session, the user and the page's own policy are there as before
    assert response.status_code == 200
    assert response.wsgi_request.user == agent
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_an_api_address_without_its_view_is_a_problem_404_naming_the_right_one(client):
    # when the webhook's address is typed without its slash (a redirect would lose a POST's
    # body, and an API client reads JSON, not the HTML 404 page)
    response = client.post("/api/inbound", {}, content_type="application/json")
    # then the answer says where it is, as problem details
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert "Did you mean /api/inbound/ (with the slash)?" in response.json()["detail"]


def test_a_known_contact_text_takes_three_statements(
    hook, company, agent, django_assert_num_queries
):
    # given a known contact whose primary agent is available
    ContactFactory(company=company, phone="+12025550142", primary_agent=agent)
    online(agent)
    # when a text comes in with an idempotency key
    # then: the company by token; the contact locked with its agent, the agent's
    # eligibility and the key's interaction; the interaction (plus the savepoint pair of
    # the test's own transaction)
    with django_assert_num_queries(5):
        response = hook(**{"Idempotency-Key": "evt-1"})
    assert response.status_code == 201
    assert response.json()["routed_to"] == "agent@acme.test"


def test_out_of_office_hours_and_holidays_cost_no_statement(
    hook, company, agent, django_assert_num_queries
):
    # given the company's hours and a holiday, the owner out of office, the cover with an
    # absence of their own that is over
    company.working_hours = "Mon-Sun 00:00-24:00"
    company.save()
    Holiday.objects.create(company=company, date=date(2001, 1, 1))
    company.refresh_from_db()
    cover = AgentFactory(companies=[company], email="cover@acme.test")
    online(agent, cover)
    ContactFactory(company=company, phone="+12025550142", primary_agent=agent)
    now = timezone.now()
    for who, starts, ends, covered_by in (
        (agent, now - timedelta(hours=1), now + timedelta(days=2), cover),
        (cover, now - timedelta(days=3), now - timedelta(days=1), None),
    ):
        Absence.objects.create(
            company=company, agent=who, starts_at=starts, ends_at=ends, cover=covered_by
        )
    # when a text comes in
    # then as without them: the company by token; the contact locked with its owner, the
    # owner's absence now, the cover's row and the cover's own absence, the key's
    # interaction; the interaction (plus the savepoint pair of the test's own transaction).
    # Hours come from the agent and company rows, holidays from company.holiday_dates.
    with django_assert_num_queries(5):
        response = hook(**{"Idempotency-Key": "evt-ooo"})
    assert response.json()["routed_to"] == "cover@acme.test"


def test_an_owner_with_a_capacity_costs_the_admission(
    hook, company, agent, django_assert_num_queries
):
    # given an owner who may hold 3 open items
    agent.capacity = 3
    agent.save()
    online(agent)
    ContactFactory(company=company, phone="+12025550142", primary_agent=agent)
    # then the five statements, and the admission's upsert (one compare-and-set)
    with django_assert_num_queries(6):
        response = hook(**{"Idempotency-Key": "evt-cap"})
    assert response.json()["routed_to"] == "agent@acme.test"


def test_an_item_for_active_in_a_company_with_capacity_asks_the_queue(
    hook, company, agent, django_assert_num_queries
):
    # given a company default capacity, and the owner away
    company.default_capacity = 3
    company.save()
    online(agent, presence="away")
    ContactFactory(company=company, phone="+12025550142", primary_agent=agent)
    # then the five statements only: the lock statement read who could take it
    # (contacts.room, the company's row saying it uses capacity), and nobody is at work
    # (on PostgreSQL; elsewhere everyone_full asks in a statement of its own)
    with django_assert_num_queries(5 if connection.vendor == "postgresql" else 6):
        response = hook(**{"Idempotency-Key": "evt-q"})
    assert response.json()["pool"] == "active"


def test_an_item_for_active_where_only_agents_have_capacities_asks_the_queue_once(
    hook, company, agent, django_assert_num_queries
):
    # given no company default, one other agent with a capacity, and the owner away
    online(agent, presence="away")
    other = AgentFactory(companies=[company], email="other@acme.test", capacity=3)
    online(other)
    ContactFactory(company=company, phone="+12025550142", primary_agent=agent)
    # then the five statements only: the lock statement says someone has a capacity and
    # reads who could take it (the other agent, who has room; on PostgreSQL, as above)
    with django_assert_num_queries(5 if connection.vendor == "postgresql" else 6):
        response = hook(**{"Idempotency-Key": "evt-q2"})
    assert response.json()["pool"] == "active"


def test_an_owner_at_their_desk_but_off_hours_costs_the_queue_its_own_statement(
    hook, company, agent, django_assert_num_queries
):
    # given a company default capacity, and an owner who chose Available but whose hours
    # have ended (the lock statement skips the queue's read for an owner at their desk)
    company.default_capacity = 3
    company.save()
    agent.working_hours = f"{DAY_LABELS[(timezone.now().weekday() + 3) % 7]} 09:00-10:00"
    agent.save()
    online(agent)
    other = AgentFactory(companies=[company], email="other@acme.test")
    online(other)
    ContactFactory(company=company, phone="+12025550142", primary_agent=agent)
    # then the five statements and everyone_full's one; the other agent has room
    with django_assert_num_queries(6):
        response = hook(**{"Idempotency-Key": "evt-q3"})
    assert response.json()["pool"] == "active"


def test_rotating_the_token_retires_the_old_one_at_once(hook, company):
    # given a token that works
    assert hook().status_code == 201
    # when it is rotated
    new = company_rotate_webhook_token(company=company)
    # then the old one is refused on the very next call and the new one works
    assert hook().status_code == 401
    assert hook(token=new).status_code == 201
    assert Interaction.objects.count() == 2


@pytest.mark.parametrize(
    "case",
    ["eligible", "inactive", "leads agent", "other company", "supervisor", "no primary"],
)
def test_the_locks_eligibility_agrees_with_eligible_primary_agents(company, other_company, case):
    # given a contact whose primary agent is in one of these situations
    level = {"leads agent": AccessLevel.LEADS_AGENT, "supervisor": AccessLevel.SUPERVISOR}
    agent = AgentFactory(
        access_level=level.get(case, AccessLevel.AGENT),
        companies=[other_company if case == "other company" else company],
    )
    contact = ContactFactory(company=company, phone="+12025550142")
    if case != "no primary":
        # (set directly: the ownership path refuses agents who may not own contacts)
        contact.primary_agent = agent
        contact.save()
    if case == "inactive":
        Agent.objects.filter(pk=agent.pk).update(is_active=False)
    # when the webhook locks it
    with transaction.atomic():
        locked = lock_contact_for_inbound(company_id=company.pk, phone="+12025550142").contact
    # then it says what the selector says
    expected = (
        case != "no primary"
        and eligible_primary_agents(company=company).filter(pk=agent.pk).exists()
    )
    assert locked.pk == contact.pk
    assert locked.primary_works_here is expected
    assert (locked.primary_agent is None) is (case == "no primary")
    if locked.primary_agent is not None:
        assert locked.primary_agent.email == agent.email


def test_the_lock_reports_the_interaction_a_key_already_made(hook, company):
    # given a text recorded under a key
    first = hook(**{"Idempotency-Key": "evt-9"}).json()
    # when the contact is locked with that key, and with another
    with transaction.atomic():
        used = lock_contact_for_inbound(
            company_id=company.pk, phone="+12025550142", idempotency_key="evt-9"
        )
        fresh = lock_contact_for_inbound(
            company_id=company.pk, phone="+12025550142", idempotency_key="evt-10"
        )
    # then the first names that interaction and the second none
    assert used.key_interaction_id == first["interaction"]
    assert used.contact.pk == first["contact"]
    assert fresh.key_interaction_id is None
    assert fresh.contact.pk == first["contact"]


def test_the_lock_reports_the_key_for_a_number_it_does_not_know(hook, company):
    # given a text recorded under a key
    first = hook(**{"Idempotency-Key": "evt-11"}).json()
    # when a number the company does not know is locked with that key, and without one
    with transaction.atomic():
        used = lock_contact_for_inbound(
            company_id=company.pk, phone="+12025550199", idempotency_key="evt-11"
        )
        bare = lock_contact_for_inbound(company_id=company.pk, phone="+12025550199")
    # then there is no contact, and the key still names its interaction (one statement)
    assert used.contact is None and used.key_interaction_id == first["interaction"]
    assert bare.contact is None and bare.key_interaction_id is None


@pytest.mark.postgres
def test_the_hot_statements_are_prepared_once_per_connection(hook, company):
    # given a few texts, from a known and from new numbers
    for n in range(3):
        assert hook({**TEXT, "phone": f"+1202555017{n}"}).status_code == 201
        assert hook(**{"Idempotency-Key": f"evt-p{n}"}).status_code == 201
    # then the database holds the webhook's statements prepared (parsed and planned once)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = " ".join(row[0] for row in cursor.fetchall())
    assert "webhook_token_hash = $1" in prepared
    assert "FOR UPDATE OF c" in prepared
    assert 'INSERT INTO "contacts_interaction"' in prepared


@pytest.mark.postgres
def test_without_prepared_statements_the_webhook_answers_the_same(hook, company):
    # given prepared statements turned off (PREPARED_STATEMENTS=0, e.g. behind PgBouncer)
    connection.ensure_connection()
    raw = connection.connection
    threshold, raw.prepare_threshold = raw.prepare_threshold, None
    try:
        # when a new number and then a retry come in
        first = hook(**{"Idempotency-Key": "evt-np"})
        again = hook(**{"Idempotency-Key": "evt-np"})
        known = hook({**TEXT, "body": "second"})
    finally:
        raw.prepare_threshold = threshold
    # then they are answered as with prepared statements
    assert first.status_code == 201 and known.status_code == 201
    assert again.status_code == 200 and again.json() == first.json()
    assert known.json()["contact"] == first.json()["contact"]
    assert Interaction.objects.filter(company=company).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_dropped_is_replaced_by_the_first_statement(hook, company):
    # given a connection in use, which the server then ends (a restart, an idle timeout)
    assert hook().status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    # when the next request comes (its first statement doubles as the health check)
    connection.health_check_enabled, connection.health_check_done = True, False
    response = hook({**TEXT, "body": "after the restart"})
    # then it is answered on a new connection, not with an error
    assert response.status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
    assert Interaction.objects.filter(company=company).count() == 2
