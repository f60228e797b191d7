"""Demo orders and leads for the demo company (called by ``seed_demo`` after the centers).

Idempotent: orders are created once per number, leads only when the demo leads agent has
none yet. Everything goes through the leads services, so the timeline tells the story.
"""

from decimal import Decimal

from agents.centers.models import Disposition
from agents.models import Agent, Company
from contacts.models import Contact
from leads.models import Lead, LeadsSettings, Order, Product
from leads.orders import Line, order_create
from leads.services import lead_resolve, leads_assign_bulk

LEADS_AGENT = "leads@northwind.test"
PRODUCTS = [
    ("Home valuation report", "VAL-1", Decimal("149.00")),
    ("Premium listing package", "LIST-P", Decimal("990.00")),
    ("Professional photos", "PHOTO", Decimal("250.00")),
]
# (customer index among the demo contacts by phone, order statuses oldest first)
ORDERS = [
    (26, ["partial"]),
    (27, ["partial"]),
    (28, ["complete", "partial"]),
    (29, ["partial"]),
    (30, ["partial"]),
    (31, ["declined", "partial"]),
    (32, ["partial"]),
    (33, ["partial"]),
    (34, ["partial"]),
    (35, ["partial"]),
    (36, ["complete"]),
    (37, ["partial", "complete"]),
    (38, ["cancelled"]),
    (39, ["refunded"]),
    (40, ["partial"]),
    (41, ["partial"]),
]
# Of the customers with a Partial latest order: these become the leads agent's leads…
ASSIGNED = [26, 27, 28, 29, 30, 31, 32, 33, 34, 35]
# …and these of them are resolved without a sale (with a sales disposition).
RESOLVED = [34, 35]


def seed_leads(company: Company, people: dict[str, Agent]) -> None:
    LeadsSettings.objects.get_or_create(company=company)
    products = []
    for name, sku, price in PRODUCTS:
        product, _ = Product.objects.get_or_create(
            company=company, name=name, defaults={"sku": sku, "price": price}
        )
        products.append(product)
    contacts = list(Contact.objects.filter(company=company, source__isnull=False).order_by("phone"))
    admin = people.get("admin@northwind.test")
    number = 1000
    for index, statuses in ORDERS:
        if index >= len(contacts):
            continue
        for n, status in enumerate(statuses):
            number += 1
            if Order.objects.filter(company=company, number=f"NW-{number}").exists():
                continue
            order_create(
                company=company,
                contact=contacts[index],
                actor=admin,
                status=status,
                lines=[
                    Line(product=products[(index + n) % len(products)], quantity=1),
                    Line(product=products[2], quantity=1 + index % 3),
                ],
                number=f"NW-{number}",
            )
    agent = people.get(LEADS_AGENT)
    if agent is None or Lead.objects.filter(company=company, agent=agent).exists():
        return
    leads_assign_bulk(
        company=company,
        contact_ids=[contacts[i].pk for i in ASSIGNED if i < len(contacts)],
        agent=agent,
        actor=admin,
    )
    disposition = (
        Disposition.objects.filter(center__company=company, is_sales=True, is_active=True)
        .order_by("name")
        .first()
    )
    if disposition is None:
        return
    for index in RESOLVED:
        lead = (
            Lead.objects.filter(contact=contacts[index], status=Lead.Status.OPEN)
            .select_related("contact", "company")
            .first()
        )
        if lead is not None:
            lead_resolve(lead=lead, disposition=disposition, actor=agent)
