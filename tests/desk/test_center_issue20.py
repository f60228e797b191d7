"""Issue 20 (what a new user hit): deactivating a center (5), the dashboard's rings and
coaching on live calls only (9), the settings page and add agent (13)."""

import re

import pytest
from django.core.exceptions import ValidationError

from agents.centers.models import CenterMembership, CoachingRequest, ContactCenter, QueueItem
from agents.centers.services import agent_set_centers, center_has_history, coaching_request
from contacts.models import Interaction
from tests.agents.factories_centers import ContactCenterFactory, live_call
from tests.agents.test_centers_pages import member
from tests.factories import AgentFactory, ContactFactory
from tests.routing.test_webhook import hook  # noqa: F401 - the fixture
from tests.routing.test_webhook_centers import desk  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
Role = CenterMembership.Role


# --- 5: deactivate a center ------------------------------------------------------------------
def test_a_center_admin_deactivates_a_center_and_it_leaves_the_lists(client, company, agent):
    # given a center with an admin, and an old one the agent is also in
    old = ContactCenterFactory(company=company, name="Old test center")
    keep = ContactCenterFactory(company=company, name="Support")
    adm = AgentFactory(companies=[company])
    member(old, adm, Role.ADMIN)
    member(old, agent)
    client.force_login(adm)
    # when the admin deactivates it on its settings page
    response = client.post(f"/centers/{old.pk}/settings/", {"active": "0"}, follow=True)
    # then it is deactivated, said so, and gone from the centers list (unless asked for)
    assert "Old test center is deactivated" in response.content.decode()
    old.refresh_from_db()
    assert not old.is_active
    assert "Old test center" not in client.get("/centers/").content.decode()
    assert "Old test center" in client.get("/centers/?inactive=1").content.decode()
    # and the user admin's checkboxes keep the membership while not listing the center
    agent_set_centers(agent=agent, centers=[keep], company=company, actor=None)
    assert set(
        CenterMembership.objects.filter(agent=agent).values_list("center__name", flat=True)
    ) == {
        "Old test center",
        "Support",
    }
    # and reactivating brings it back
    client.post(f"/centers/{old.pk}/settings/", {"active": "1"})
    old.refresh_from_db()
    assert old.is_active


def test_the_agent_admin_checkboxes_list_only_active_centers(login, company_admin, company, agent):
    ContactCenterFactory(company=company, name="Gone", is_active=False)
    ContactCenterFactory(company=company, name="Here")
    html = login(company_admin).get(f"/admin/agents/agent/{agent.pk}/change/").content.decode()
    assert "Here" in html and ">Gone<" not in html and " Gone</label>" not in html


def test_a_call_naming_a_deactivated_center_is_refused_with_the_reason(hook, desk):  # noqa: F811
    center, _ = desk
    ContactCenter.objects.filter(pk=center.pk).update(is_active=False)
    response = hook({"channel": "call", "phone": "+12025550142", "contact_center": "Help Desk"})
    assert response.status_code == 400
    assert "is deactivated" in response.json()["errors"]["contact_center"][0]
    assert not Interaction.objects.exists()


def test_the_admin_deletes_only_a_center_without_history(client, company):
    # given an unused center and one that took a call
    unused = ContactCenterFactory(company=company, name="Unused")
    used = ContactCenterFactory(company=company, name="Used")
    QueueItem.objects.create(center=used, label="call from Ann")
    assert center_has_history(used) and not center_has_history(unused)
    # (deleting centers is the superuser's: company admins deactivate them)
    client.force_login(AgentFactory(companies=[company], is_superuser=True, is_staff=True))
    client.post(f"/admin/agents/contactcenter/{unused.pk}/delete/", {"post": "yes"})
    assert not ContactCenter.objects.filter(pk=unused.pk).exists()
    response = client.post(
        f"/admin/agents/contactcenter/{used.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert ContactCenter.objects.filter(pk=used.pk).exists()
    assert "deactivate it instead" in response.content.decode()


def test_the_admin_deactivates_by_action_and_lists_inactive_on_request(
    login, company_admin, company
):
    center = ContactCenterFactory(company=company, name="Winter campaign")
    client = login(company_admin)
    client.post(
        "/admin/agents/contactcenter/",
        {"action": "deactivate_centers", "_selected_action": [center.pk]},
    )
    center.refresh_from_db()
    assert not center.is_active
    assert "Winter campaign" not in client.get("/admin/agents/contactcenter/").content.decode()
    listed = client.get("/admin/agents/contactcenter/?status=inactive").content.decode()
    assert "Winter campaign" in listed


# --- 9: rings and coaching -------------------------------------------------------------------
def test_the_dashboard_counts_and_lists_the_calls_that_rang(hook, desk, client, company):  # noqa: F811
    center, people = desk
    sup = AgentFactory(companies=[company])
    member(center, sup, Role.SUPERVISOR)
    # given five calls that each answered with a ring list
    for n in range(5):
        response = hook(
            {"channel": "call", "phone": f"+1202555014{n}", "contact_center": "Help Desk"}
        )
        assert response.json()["ring"]
    client.force_login(sup)
    html = client.get(f"/centers/{center.pk}/dashboard/").content.decode()
    assert '<span class="stat-value" id="recent-rings">5</span>' in html
    assert "No rings yet" not in html
    assert "rang Ava Agent" in html and "waiting" in html


def test_ring_activity_names_the_first_five_a_call_rang_and_counts_the_rest(client, company):
    # given a call that rang eight members (one entry of before names were kept: agent only),
    # a call that rang two, and one with nobody to ring
    center = ContactCenterFactory(company=company, name="Big Desk")
    sup = AgentFactory(companies=[company])
    member(center, sup, Role.SUPERVISOR)
    contact = ContactFactory(company=company, name="Caller")
    ring = [{"agent": f"m{n}@example.test", "name": f"Member <{n}>", "order": n} for n in range(8)]
    ring[1] = {"agent": "old@example.test", "order": 1}
    for entries in (ring, ring[:2], []):
        Interaction.objects.create(
            company=company, contact=contact, channel="call", center=center, ring=entries
        )
    # when the supervisor opens the dashboard
    client.force_login(sup)
    html = client.get(f"/centers/{center.pk}/dashboard/").content.decode()
    # then each call names at most five, escaped, and says how many more it rang
    assert (
        "rang Member &lt;0&gt;, old@example.test, Member &lt;2&gt;, Member &lt;3&gt;, "
        "Member &lt;4&gt; and 3 more" in html
    )
    assert re.search(r"rang Member &lt;0&gt;, old@example.test\s+—", html)  # (no "more")
    assert "Member &lt;5&gt;" not in html and "nobody to ring" in html
    assert '<span class="stat-value" id="recent-rings">2</span>' in html


def test_coaching_is_offered_and_recorded_only_on_a_live_call(client, company, agent):
    center = ContactCenterFactory(company=company, name="Sales")
    sup = AgentFactory(companies=[company])
    member(center, sup, Role.SUPERVISOR)
    member(center, agent)
    client.force_login(sup)
    # given Andy has no call: no buttons, and a request posted anyway is refused
    html = client.get(f"/centers/{center.pk}/dashboard/").content.decode()
    assert "Listen in" not in html and "No live call" in html
    response = client.post(
        f"/centers/{center.pk}/coach/", {"agent": agent.pk, "action": "listen"}, follow=True
    )
    assert "has no live call" in response.content.decode()
    assert "requested on" not in response.content.decode()
    assert not CoachingRequest.objects.exists()
    with pytest.raises(ValidationError, match="no live call"):
        coaching_request(
            center=center, supervisor=sup, agent=agent, action="listen", on_live_call=False
        )
    # when Andy takes a call, the buttons appear and the request is recorded
    live_call(center, agent)
    assert "Listen in" in client.get(f"/centers/{center.pk}/dashboard/").content.decode()
    client.post(f"/centers/{center.pk}/coach/", {"agent": agent.pk, "action": "listen"})
    assert CoachingRequest.objects.get().agent == agent


# --- 13: settings, add agent, last update ----------------------------------------------------
def test_settings_show_open_days_as_checkboxes_and_save_the_digits(client, company):
    center = ContactCenterFactory(company=company, name="Support", open_days="01234")
    adm = AgentFactory(companies=[company])
    member(center, adm, Role.ADMIN)
    client.force_login(adm)
    html = client.get(f"/centers/{center.pk}/settings/").content.decode()
    assert 'type="checkbox" name="open_days" value="5"' in html
    assert 'value="0" id="id_open_days_0" checked' in html or (
        'name="open_days" value="0"' in html and "checked" in html
    )
    client.post(
        f"/centers/{center.pk}/settings/",
        {
            "name": "Support",
            "routing_type": "longest_idle",
            "open_days": ["5", "0", "6"],
            "after_hours": "voicemail",
        },
    )
    center.refresh_from_db()
    assert center.open_days == "056"
    refused = client.post(
        f"/centers/{center.pk}/settings/",
        {"name": "Support", "routing_type": "longest_idle", "after_hours": "voicemail"},
    )
    assert "Pick at least one open day" in refused.content.decode()


def test_several_matches_are_buttons_without_inline_style(client, company):
    center = ContactCenterFactory(company=company, name="Support")
    adm = AgentFactory(companies=[company])
    member(center, adm, Role.ADMIN)
    AgentFactory(companies=[company], full_name="Ava Patel", email="ava.p@acme.test")
    AgentFactory(companies=[company], full_name="Ava Stone", email="ava.s@acme.test")
    client.force_login(adm)
    html = client.post(f"/centers/{center.pk}/add/", {"q": "Ava"}).content.decode()
    assert "Ava Patel" in html and "Ava Stone" in html
    assert "style=" not in html


def test_the_type_ahead_suggests_company_people_to_center_admins_only(
    client, company, other_company
):
    center = ContactCenterFactory(company=company, name="Support")
    adm = AgentFactory(companies=[company])
    member(center, adm, Role.ADMIN)
    sup = AgentFactory(companies=[company])
    member(center, sup, Role.SUPERVISOR)
    AgentFactory(companies=[company], full_name="Ava Patel", email="ava@acme.test")
    AgentFactory(companies=[other_company], full_name="Ava Elsewhere", email="ava@other.test")
    client.force_login(adm)
    answer = client.get(f"/centers/{center.pk}/add/suggest/?q=ava").json()
    assert [r["email"] for r in answer["results"]] == ["ava@acme.test"]
    client.force_login(sup)
    assert client.get(f"/centers/{center.pk}/add/suggest/?q=ava").status_code == 403


def test_the_dashboard_says_when_it_was_updated_in_the_company_zone(client, company):
    center = ContactCenterFactory(company=company, name="Support")
    sup = AgentFactory(companies=[company])
    member(center, sup, Role.SUPERVISOR)
    client.force_login(sup)
    html = client.get(f"/centers/{center.pk}/dashboard/").content.decode()
    assert 'id="updated-at">Updated at ' in html
