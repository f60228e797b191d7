"""Building lists and campaigns for the campaign tests (through the real services)."""

import threading
from pathlib import Path

from django.db import connections
from hypothesis import strategies as st

from agents.centers.models import Disposition
from agents.centers.services import center_add_members
from campaigns.importing import list_import_create, list_import_run
from campaigns.models import ContactList, ListImport
from campaigns.services import campaign_create
from campaigns.uploads import store_upload
from tests.agents.factories_centers import ContactCenterFactory


def load_list(company, data: bytes | str, *, name="Spring list", contact_list=None, kind=None):
    """Store ``data`` as an upload and run the import synchronously; return the import."""
    raw = data.encode() if isinstance(data, str) else data
    path, _ = store_upload([raw], name="list.csv")
    contact_list = contact_list or ContactList.objects.create(company=company, name=name)
    list_import = list_import_create(
        contact_list=contact_list,
        path=Path(path),
        file_name="list.csv",
        kind=kind or ListImport.Kind.INITIAL,
    )
    return list_import_run(list_import_id=list_import.pk)


def queue_with(company, *agents, preferred=True, name="Collections"):
    center = ContactCenterFactory(company=company, name=name, preferred_agent_routing=preferred)
    if agents:
        center_add_members(center=center, agents=list(agents), actor=None)
    Disposition.objects.create(center=center, name="Promise to pay")
    Disposition.objects.create(center=center, name="No answer")
    return center


def phone(n: int) -> str:
    return f"+1 212 555 {n % 10000:04d}"


# Cells for generated files: text, phones, quotes, line breaks, delimiters, long cells.
cells = st.one_of(
    st.text(max_size=20),
    st.sampled_from([phone(7), "(212) 555-0142", '"', '""', "\n", "\r\n", ";", "\t", "=1+1"]),
    st.text(min_size=500, max_size=700),
)


def make_campaign(company, queue, rows, *, sort=None, name="Q2 collections", column="Agent"):
    """A campaign over a list of ``rows`` (agent value, balance) with one phone each."""
    lines = ["Name,Phone,Agent,Balance"]
    for i, (agent_value, balance) in enumerate(rows):
        lines.append(f"Person {i},{phone(100 + i)},{agent_value},{balance}")
    imported = load_list(company, "\n".join(lines) + "\n", name=f"{name} list")
    assert imported.status == ListImport.Status.LOADED, imported.message
    return campaign_create(
        company=company,
        name=name,
        queue=queue,
        contact_list=imported.contact_list,
        agent_column=column,
        sort=sort or [],
    )


def at_once(target, times: int) -> None:
    """Call ``target`` in ``times`` threads released together (each with its own database
    connection, closed after)."""
    barrier = threading.Barrier(times)

    def run():
        try:
            barrier.wait()
            target()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
