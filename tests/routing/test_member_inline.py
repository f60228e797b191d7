"""The reassignment group's assignee rows in the admin."""

import re

import pytest

from routing.models import GroupMember, ReassignmentGroup
from tests.factories import AgentFactory

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
