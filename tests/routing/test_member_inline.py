"""The reassignment group's admin page: its assignee rows, and saving it."""

import re
from datetime import UTC, datetime

import pytest

from routing.models import GroupMember, ReassignmentGroup
from tests.factories import AgentFactory
from tests.routing.helpers import group_of

pytestmark = pytest.mark.django_db


def _added_cells(html: str) -> list[str]:
    cells = re.findall(r'<td class="field-added(?:_at)?">\s*<p>(.*?)</p>', html, flags=re.S)
    return [c.strip() for c in cells]


def test_the_empty_assignee_row_shows_no_added_at_time(login, company_admin, company):
    # given a group with one assignee, edited by an admin who manages routing
    company_admin.can_manage_routing = True
    company_admin.save()
    ben = AgentFactory(companies=[company], full_name="Ben Okafor")
    group = ReassignmentGroup.objects.create(company=company, name="Closers", method="next_up")
    GroupMember.objects.create(group=group, agent=ben)
    # when the admin opens the group
    html = login(company_admin).get(f"/admin/routing/reassignmentgroup/{group.pk}/change/")
    cells = _added_cells(html.content.decode())
    # then Ben's row shows when he was added, and the empty extra row (and the template row
    # that "Add another" copies) show nothing
    assert len(cells) == 3, cells
    assert re.search(r"\d{4}", cells[0]), cells
    assert cells[1:] == ["", ""]


def test_saving_a_group_in_the_admin_keeps_the_rotation_stored_meanwhile(
    login, company_admin, company, people
):
    # given the group's page open in the admin, and a round moving the rotation meanwhile
    company_admin.can_manage_routing = True
    company_admin.save()
    group = group_of(company, people, "round_robin")
    client = login(company_admin)
    client.get(f"/admin/routing/reassignmentgroup/{group.pk}/change/")
    ReassignmentGroup.objects.filter(pk=group.pk).update(rotation={"round": 7, "order": [1]})

    # when the admin renames the group
    members = list(GroupMember.objects.filter(group=group).order_by("pk"))
    data = {
        "name": "Renamed",
        "method": "round_robin",
        "claim_window_minutes": 5,
        "skip_unavailable": "on",
        "members-TOTAL_FORMS": len(members),
        "members-INITIAL_FORMS": len(members),
    }
    for n, m in enumerate(members):
        data |= {f"members-{n}-id": m.pk, f"members-{n}-group": group.pk}
        data[f"members-{n}-agent"] = m.agent_id
    response = client.post(f"/admin/routing/reassignmentgroup/{group.pk}/change/", data)

    # then the name changed and the rotation is the one stored meanwhile
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.name == "Renamed" and group.rotation == {"round": 7, "order": [1]}


def test_added_at_is_shown_in_the_companys_time_zone_not_raw(login, company_admin, company):
    # given a company in New York and an assignee added at 07:45:12 UTC
    company.time_zone = "America/New_York"
    company.save()
    company_admin.can_manage_routing = True
    company_admin.save()
    group = ReassignmentGroup.objects.create(company=company, name="Closers", method="next_up")
    member = GroupMember.objects.create(group=group, agent=AgentFactory(companies=[company]))
    added = datetime(2026, 12, 1, 7, 45, 12, 64493, tzinfo=UTC)
    GroupMember.objects.filter(pk=member.pk).update(added_at=added)
    # when the admin opens the group
    html = login(company_admin).get(f"/admin/routing/reassignmentgroup/{group.pk}/change/")
    # then the time reads as a person would, in the company's zone
    assert _added_cells(html.content.decode())[0] == "2026-12-01 02:45"
