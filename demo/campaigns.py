"""The demo's preview campaign with agent-owned records: a small list for Chloe and Diego
(the Northwind Sales queue, preferred agent routing on), running, with a few records in
error, so the preview page, the dashboard and the error page all show something."""

from agents.centers.models import ContactCenter
from agents.models import Agent, Company
from campaigns.contact_lists import list_import_start
from campaigns.importing import list_import_run
from campaigns.models import Campaign, ContactList, ListImport
from campaigns.services import campaign_create, campaign_start
from campaigns.uploads import remove_upload

LIST_NAME = "Spring valuations"
CAMPAIGN_NAME = "Spring valuations (agent-owned)"
# name, phone, agent value, neighbourhood, last valuation
ROWS = [
    ("Olivia Nguyen", "+1 202 555 0100", "chloe@northwind.test", "Elm Park", "410000"),
    ("Hannah Lee", "+1 202 555 0160", "chloe@northwind.test", "Riverside", "385000"),
    ("Marcus Webb", "+1 202 555 0161", "diego@northwind.test", "Elm Park", "520000"),
    ("Priya Shah", "+1 202 555 0162", "chloe@northwind.test", "Old Town", "299000"),
    ("Tom Fischer", "+1 202 555 0163", "diego@northwind.test", "Riverside", "450000"),
    ("Nora Blake", "+1 202 555 0164", "diego@northwind.test", "Old Town", "610000"),
    ("Sofia Rossi", "+1 202 555 0165", "chloe@northwind", "Elm Park", "333000"),  # invalid
    ("Jack Moore", "+1 202 555 0166", "jack@northwind.test", "Riverside", "275000"),  # unknown
    ("Leo Park", "+1 202 555 0167", "ava@northwind.test", "Old Town", "505000"),  # not in queue
    ("Ruth Adams", "not a number", "diego@northwind.test", "Elm Park", "1"),  # rejected row
]


def _csv() -> bytes:
    lines = ["Name,Phone,Agent email,Neighbourhood,Last valuation"]
    lines += [",".join(row) for row in ROWS]
    return ("\r\n".join(lines) + "\r\n").encode()


def seed_campaigns(company: Company, people: dict[str, Agent]) -> Campaign | None:
    """Idempotent: does nothing once the demo campaign exists."""
    existing = Campaign.objects.filter(company=company, name=CAMPAIGN_NAME).first()
    if existing is not None:
        return existing
    queue = ContactCenter.objects.filter(
        company=company, name="Northwind Sales", preferred_agent_routing=True
    ).first()
    if queue is None:
        return None
    contact_list, _ = ContactList.objects.get_or_create(company=company, name=LIST_NAME)
    if not contact_list.columns:
        list_import = list_import_start(
            contact_list=contact_list,
            chunks=[_csv()],
            file_name="spring-valuations.csv",
            actor=people.get("admin@northwind.test"),
            enqueue=False,
        )
        done = list_import_run(list_import_id=list_import.pk)
        remove_upload(done)
        if done.status != ListImport.Status.LOADED:
            return None
        contact_list.refresh_from_db()
    campaign = campaign_create(
        company=company,
        name=CAMPAIGN_NAME,
        queue=queue,
        contact_list=contact_list,
        agent_column="Agent email",
        sort=[["Last valuation", "desc"]],
        actor=people.get("admin@northwind.test"),
    )
    campaign_start(campaign=campaign)
    return campaign
