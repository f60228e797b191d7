import pytest

from agents.centers.models import (
    AgentLine,
    CenterMembership,
    ContactCenter,
    Device,
    Disposition,
    License,
    SkillRank,
)
from agents.centers.selectors import center_ring_facts
from agents.models import AccessLevel
from demo.centers import seed_centers
from routing.engine.centers import ring_list
from tests.factories import AgentFactory, CompanyFactory, online

pytestmark = pytest.mark.django_db

EMAILS = [
    ("admin@northwind.test", AccessLevel.ADMIN),
    ("supervisor@northwind.test", AccessLevel.SUPERVISOR),
    *[(f"{n}@northwind.test", AccessLevel.AGENT) for n in ("ava", "ben", "chloe", "diego", "emma")],
    ("leads@northwind.test", AccessLevel.LEADS_AGENT),
]


def counts():
    return [
        m.objects.count()
        for m in (ContactCenter, CenterMembership, SkillRank, Disposition, Device, AgentLine)
    ]


def test_seed_centers_is_idempotent_and_shows_every_feature():
    # given the demo's people
    company = CompanyFactory(name="Northwind Realty")
    people = {
        email: AgentFactory(email=email, access_level=level, companies=[company])
        for email, level in EMAILS
    }
    # when it runs twice
    seed_centers(company, people)
    first = counts()
    seed_centers(company, people)
    # then the same data
    assert counts() == first
    support = ContactCenter.objects.get(name="Northwind Support")
    sales = ContactCenter.objects.get(name="Northwind Sales")
    assert (support.routing_type, sales.routing_type) == ("skills", "round_robin")
    assert AgentLine.objects.get(agent=people["emma@northwind.test"]).license == License.AI_VOICE
    assert sales.dispositions.filter(is_sales=True).count() == 2
    supervisor = people["supervisor@northwind.test"]
    assert supervisor.has_perm("agents.view_center_dashboard", support)
    # and billing calls ring Ava (90) before Ben (60) before Chloe (30) (in the whole demo
    # Chloe is out of office, so `make run` names the first two), even with the supervisor
    # logged in: he has no billing rank, so is not rung for billing
    online(*[people[f"{n}@northwind.test"] for n in ("ava", "ben", "chloe", "diego")])
    online(supervisor, people["admin@northwind.test"])
    result = ring_list(center_ring_facts(center=support, call_type="billing"))
    names = [
        people[e].pk for e in ("ava@northwind.test", "ben@northwind.test", "chloe@northwind.test")
    ]
    assert result.agent_ids == names
    assert [e.rank for e in result.ring] == [90, 60, 30]
    assert result.excluded[supervisor.pk] == "no rank for billing"
    # and Diego, whose only device doesn't ring, is left out of Sales with the reason
    sales_ring = ring_list(center_ring_facts(center=sales))
    assert people["diego@northwind.test"].pk in sales_ring.excluded
