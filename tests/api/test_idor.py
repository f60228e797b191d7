"""The IDOR matrix: every operation of the generated schema, for keys of every scope set.

Two companies, Alpha (the target) and Beta (the caller), each with a full set of objects.
For each operation and each scope set (read, write, routing, all):

- a key of Beta holding the operation's scope, calling Alpha's object URLs, gets 404 (an
  operation whose body names objects gets a refusal that names none of Alpha's: not a 2xx
  that changed or showed them);
- a key lacking the operation's scope gets 403 (Beta's on Alpha's URL, Alpha's on its own);
- nothing any answer says is Alpha's ("Alpha" is in every name and email of Alpha's world);
- afterwards every row of Alpha's is as it was (every model reaching a company);
- and, last, Alpha's own key with every scope gets the operation's success on the same URL
  and body: the URLs and bodies are right, so the 404s above say something.

The registry (``OPERATIONS``) names, per operation id, its scope, how to find Alpha's object
for each path parameter, and a minimal valid body. An operation of the schema missing from it
fails (``test_every_operation_of_the_schema_is_in_the_registry`` and its own case below): a
new endpoint is added here before it ships.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from drf_spectacular.generators import SchemaGenerator

from agents.centers.models import CallType, Disposition
from agents.centers.services import center_add_members
from agents.models import AccessLevel, Company
from api.models import Scope
from campaigns.services import campaign_pause, campaign_start
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from leads.models import Order, Product
from leads.orders import Line, order_create
from leads.services import lead_assign
from routing.inbound import inbound_receive
from routing.models import GroupMember, ReassignmentGroup, RoutingRule, RuleMember
from routing.rounds import reassignment_start
from tests.agents.factories_centers import ContactCenterFactory
from tests.api.conftest import client_for
from tests.campaigns.helpers import make_campaign
from tests.factories import AgentFactory, CompanyFactory, online

pytestmark = pytest.mark.django_db

READ, WRITE, ROUTING = Scope.READ, Scope.WRITE, Scope.ROUTING
SCOPE_SETS = {"read": [READ], "write": [WRITE], "routing": [ROUTING], "all": [READ, WRITE, ROUTING]}
# The apps whose rows a key could reach (the api app's own keys and replays are the caller's).
SNAPSHOT_APPS = ("agents", "contacts", "routing", "campaigns", "leads", "events")


# --- The two worlds ------------------------------------------------------------------------
@dataclass
class World:
    """One company's full set of objects, every name and email carrying ``tag``."""

    company: Company
    tag: str
    n: int
    objects: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None


def build_world(tag: str, n: int) -> World:
    company = CompanyFactory(name=f"{tag} Realty")
    lower = tag.lower()
    world = World(company=company, tag=tag, n=n)
    o = world.objects

    def person(first, level=AccessLevel.AGENT):
        return AgentFactory(
            companies=[company],
            full_name=f"{first} {tag}",
            email=f"{first.lower()}.{lower}@{lower}.test",
            access_level=level,
        )

    o["ava"], o["ben"] = person("Ava"), person("Ben")
    o["leads_agent"] = person("Lee", AccessLevel.LEADS_AGENT)
    online(o["ava"], o["ben"])

    def phone(i):
        return f"+1 202 555 {n * 100 + i:04d}"

    def contact(i, first):
        return contact_create(company=company, actor=None, name=f"{first} {tag}", phone=phone(i))

    o["contact"] = contact(1, "Olivia")
    contact_assign_primary_agent(contact=o["contact"], agent=o["ava"], actor=None)
    o["spare"] = contact(2, "Noah")  # for rounds and the dry run: no hold on it
    inbound_receive(company=company, channel="text", phone=phone(1), body=f"Hello {tag}")
    # Routing: a first-to-claim group (a round held open on its own contact) and a rule.
    o["group"] = ReassignmentGroup.objects.create(
        company=company, name=f"{tag} closers", method="first_to_claim", claim_window_minutes=5
    )
    o["round_group"] = ReassignmentGroup.objects.create(
        company=company, name=f"{tag} claimers", method="first_to_claim", claim_window_minutes=5
    )
    for g in (o["group"], o["round_group"]):
        GroupMember.objects.create(group=g, agent=o["ava"])
        GroupMember.objects.create(group=g, agent=o["ben"])
    o["rule"] = RoutingRule.objects.create(
        company=company, name=f"{tag} zillow", sources="zillow", method="round_robin"
    )
    RuleMember.objects.create(rule=o["rule"], agent=o["ben"])
    o["held"] = contact(3, "Held")
    o["round"] = reassignment_start(contact=o["held"], group=o["round_group"], actor=None)
    # A contact center that is also the campaigns' queue, with a call type and dispositions.
    o["center"] = ContactCenterFactory(
        company=company, name=f"{tag} desk", preferred_agent_routing=True
    )
    center_add_members(center=o["center"], agents=[o["ava"], o["ben"]], actor=None)
    CallType.objects.create(center=o["center"], name="billing")
    o["sold"] = Disposition.objects.create(center=o["center"], name="Sold", is_sales=True)
    # Campaigns: a draft, a running and a paused one, each on its own list.
    rows = [(o["ava"].email, "10"), (o["ben"].email, "20")]
    for state in ("draft", "running", "paused"):
        o[state] = make_campaign(company, o["center"], rows, name=f"{tag} {state}")
    campaign_start(campaign=o["running"])
    campaign_start(campaign=o["paused"])
    campaign_pause(campaign=o["paused"])
    o["contact_list"] = o["draft"].contact_list
    # Leads: a customer with an open lead, and one (a Partial order) to assign.
    product = Product.objects.create(company=company, name=f"{tag} valuation", price=Decimal(1))
    for key, i in (("lead_customer", 4), ("customer", 5)):
        o[key] = contact(i, "Customer")
        order_create(
            company=company,
            contact=o[key],
            actor=None,
            status=Order.Status.PARTIAL,
            lines=[Line(product=product, quantity=1)],
        )
    o["lead"] = lead_assign(
        company=company, contact=o["lead_customer"], agent=o["leads_agent"], actor=None
    )
    return world


# --- The registry --------------------------------------------------------------------------
@dataclass
class Op:
    """How to call one operation: the scope it needs; Alpha's object per path parameter;
    a minimal valid body from the caller's world (``body(caller, target)``: target is whose
    objects a body-only operation names); query parameters; the success statuses Alpha's own
    key gets; what a Beta key holding the scope may answer when the operation has no path
    object (its body names Alpha's objects, or it lists)."""

    scope: str
    path: dict[str, Callable[[World], int]] = field(default_factory=dict)
    body: Callable[[World, World], dict] | None = None
    query: Callable[[World], dict] | None = None
    ok: tuple[int, ...] = (200,)
    cross: tuple[int, ...] = (404,)
    multipart: bool = False


UPLOADS = itertools.count(1)


def _csv(world: World, target: World) -> dict:
    data = f"Name,Phone,Agent\nZed {world.tag},+1 202 555 {world.n * 100 + 90:04d},x\n"
    return {
        "name": f"{world.tag} upload {next(UPLOADS)}",  # names are unique in a company
        "file": SimpleUploadedFile("list.csv", data.encode(), content_type="text/csv"),
    }


def contact_id(w):
    return w.contact.pk


OPERATIONS: dict[str, Op] = {
    # Agents
    "agents_list": Op(READ, cross=(200,)),
    "agents_read": Op(READ, {"id": lambda w: w.ava.pk}),
    "agents_presence_set": Op(
        ROUTING, {"id": lambda w: w.ben.pk}, body=lambda c, t: {"presence": "away"}
    ),
    # Contacts
    "contacts_list": Op(READ, cross=(200,)),
    "contacts_create": Op(
        WRITE,
        # Beta may create its own contact with Alpha's phone: it is Beta's, Alpha is untouched.
        body=lambda c, t: {
            "name": f"Zoe {c.tag}",
            "phone": t.contact.phone if c is not t else f"+1 202 555 {c.n * 100 + 77:04d}",
        },
        ok=(201,),
        cross=(201, 400),  # 400: the second scope set's try, the number now Beta's own
    ),
    "contacts_read": Op(READ, {"id": contact_id}),
    "contacts_update": Op(WRITE, {"id": contact_id}, body=lambda c, t: {"name": f"New {c.tag}"}),
    "contacts_delete": Op(WRITE, {"id": contact_id}, ok=(204,)),
    "contacts_interactions": Op(READ, {"id": contact_id}),
    "contacts_timeline": Op(READ, {"id": contact_id}),
    "contacts_primary_agent_set": Op(
        ROUTING, {"id": contact_id}, body=lambda c, t: {"agent": c.ben.pk}
    ),
    "contacts_primary_agent_clear": Op(ROUTING, {"id": contact_id}),
    "contacts_primary_agent_bulk": Op(
        ROUTING,
        # Alpha's contacts by id, to one of the caller's agents.
        body=lambda c, t: {"items": [{"contact": t.contact.pk, "agent": c.ben.pk}]},
        cross=(200,),  # each item "not_found", checked below
    ),
    "reassignments_start": Op(
        ROUTING, {"id": lambda w: w.spare.pk}, body=lambda c, t: {"group": c.group.pk}, ok=(201,)
    ),
    "reassignments_read": Op(READ, {"id": lambda w: w.round.pk}),
    "groups_list": Op(READ, cross=(200,)),
    "groups_read": Op(READ, {"id": lambda w: w.group.pk}),
    "rules_list": Op(READ, cross=(200,)),
    "rules_read": Op(READ, {"id": lambda w: w.rule.pk}),
    "routing_dry_run": Op(
        READ,
        body=lambda c, t: {"group": t.group.pk, "contact": t.spare.pk},
        cross=(400, 404),
    ),
    "interactions_inbound": Op(
        WRITE,
        # Alpha's contact's phone: Beta's own contact gets it (or is created), not Alpha's.
        body=lambda c, t: {"channel": "text", "phone": t.contact.phone, "body": "Hi"},
        ok=(200, 201),
        cross=(200, 201),
    ),
    # Contact centers
    "centers_list": Op(READ, cross=(200,)),
    "centers_read": Op(READ, {"id": lambda w: w.center.pk}),
    "centers_ring_list": Op(
        READ, {"id": lambda w: w.center.pk}, query=lambda w: {"call_type": "billing"}
    ),
    # Contact lists and campaigns
    "contact_lists_list": Op(READ, cross=(200,)),
    "contact_lists_create": Op(WRITE, body=_csv, ok=(201,), cross=(201,), multipart=True),
    "contact_lists_read": Op(READ, {"id": lambda w: w.contact_list.pk}),
    "campaigns_list": Op(READ, cross=(200,)),
    "campaigns_create": Op(
        WRITE,
        body=lambda c, t: {
            "name": f"{c.tag} new",
            "queue": t.center.pk,
            "contact_list": t.contact_list.pk,
            "agent_column": "Agent",
        },
        ok=(201,),
        cross=(400,),
    ),
    "campaigns_read": Op(READ, {"id": lambda w: w.draft.pk}),
    "campaigns_start": Op(WRITE, {"id": lambda w: w.draft.pk}),
    "campaigns_pause": Op(WRITE, {"id": lambda w: w.running.pk}),
    "campaigns_resume": Op(WRITE, {"id": lambda w: w.paused.pk}),
    "campaigns_recycle": Op(WRITE, {"id": lambda w: w.running.pk}, body=lambda c, t: {}),
    "campaigns_progress": Op(READ, {"id": lambda w: w.running.pk}),
    "campaigns_errors": Op(READ, {"id": lambda w: w.running.pk}),
    # Leads
    "leads_list": Op(READ, cross=(200,)),
    "leads_assign": Op(
        WRITE,
        body=lambda c, t: {"customer": t.customer.pk, "agent": t.leads_agent.pk},
        ok=(201,),
        cross=(400,),
    ),
    "leads_read": Op(READ, {"id": lambda w: w.lead.pk}),
    "leads_unassign": Op(WRITE, {"id": lambda w: w.lead.pk}),
    "leads_resolve": Op(
        WRITE, {"id": lambda w: w.lead.pk}, body=lambda c, t: {"disposition": c.sold.pk}
    ),
}


# --- The schema's operations ---------------------------------------------------------------
def schema_operations() -> list[tuple[str, str, str]]:
    """(operation id, method, path template) of every operation the API serves."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((operation["operationId"], method, path))
    return sorted(found)


SCHEMA_OPERATIONS = schema_operations()


def test_every_operation_of_the_schema_is_in_the_registry():
    missing = sorted({op for op, _, _ in SCHEMA_OPERATIONS} - set(OPERATIONS))
    gone = sorted(set(OPERATIONS) - {op for op, _, _ in SCHEMA_OPERATIONS})
    assert not missing, f"add these operations to OPERATIONS in {__name__}: {missing}"
    assert not gone, f"these operations are no longer in the schema: {gone}"


# --- Alpha's rows ----------------------------------------------------------------------------
def _company_filter(model: type[models.Model]) -> str | None:
    """The lookup from ``model`` to its company: its own ``company``, or through the first
    foreign key whose model has one (a group's members, a campaign's entries)."""
    names = {f.name: f for f in model._meta.get_fields()}
    if "company" in names and names["company"].is_relation:
        return "company"
    if "companies" in names:
        return "companies"
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model is not None:
            related = {g.name for g in f.related_model._meta.get_fields()}
            if "company" in related:
                return f"{f.name}__company"
    return None


def snapshot(company: Company) -> dict[str, list[dict]]:
    rows = {}
    for app in SNAPSHOT_APPS:
        for model in apps.get_app_config(app).get_models():
            lookup = _company_filter(model)
            if lookup is None:
                continue
            queryset = model._default_manager.filter(**{lookup: company}).distinct()
            rows[model._meta.label] = list(queryset.order_by("pk").values())
    return rows


# --- Calling an operation --------------------------------------------------------------------
def call(api, method: str, template: str, op: Op, *, target: World, caller: World):
    url = template
    for name, find in op.path.items():
        url = url.replace("{" + name + "}", str(find(target)))
    query = op.query(target) if op.query else None
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    body = op.body(caller, target) if op.body else None
    send = getattr(api, method)
    if op.multipart:
        return send(url, body, format="multipart")
    return send(url, body, format="json") if body is not None else send(url)


def _reveals(response, world: World) -> bool:
    return world.tag.lower() in response.content.decode().lower()


@pytest.fixture
def worlds(db):
    return build_world("Alpha", 31), build_world("Beta", 32)


@pytest.mark.parametrize(
    ("operation", "method", "template"),
    SCHEMA_OPERATIONS,
    ids=[op for op, _, _ in SCHEMA_OPERATIONS],
)
def test_no_key_reaches_another_companys_objects_and_scopes_hold(
    worlds, operation, method, template
):
    op = OPERATIONS.get(operation)
    if op is None:
        pytest.fail(f"{operation} ({method.upper()} {template}) is not in OPERATIONS: add it")
    alpha, beta = worlds
    # given Alpha's rows as they are
    before = snapshot(alpha.company)
    for name, scopes in SCOPE_SETS.items():
        # when a key of Beta with these scopes calls Alpha's objects
        answer = call(
            client_for(beta.company, scopes), method, template, op, target=alpha, caller=beta
        )
        # then it is refused for its scope, or finds nothing of Alpha's
        if op.scope not in scopes:
            assert answer.status_code == 403, (name, answer.status_code, answer.content)
            assert f"“{op.scope}”" in answer.json()["detail"]
        else:
            expected = (404,) if op.path else op.cross
            assert answer.status_code in expected, (name, answer.status_code, answer.content)
            if operation == "contacts_primary_agent_bulk":
                assert [r["status"] for r in answer.json()["results"]] == ["not_found"]
        assert not _reveals(answer, alpha), (name, answer.content)
        # and Alpha's own key lacking the scope is refused on its own objects
        if op.scope not in scopes:
            own = call(
                client_for(alpha.company, scopes), method, template, op, target=alpha, caller=alpha
            )
            assert own.status_code == 403, (name, own.status_code, own.content)
    # then nothing of Alpha's changed
    assert snapshot(alpha.company) == before
    # and Alpha's own key with every scope succeeds on the same URL and body
    own = call(client_for(alpha.company), method, template, op, target=alpha, caller=alpha)
    assert own.status_code in op.ok, (own.status_code, own.content)
