"""The admin pages of routing and the webhook token, in a real browser."""

import pytest
from django.utils import timezone

from agents.models import Presence
from contacts.services import contact_create
from routing.models import Decision, GroupMember, ReassignmentGroup
from routing.rounds import reassignment_start
from tests.conftest import browser_login
from tests.factories import AgentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_routing_manager_builds_a_group_and_reads_its_fairness(
    page, company, company_admin, screenshot
):
    company_admin.can_manage_routing = True
    company_admin.save()
    people = [
        AgentFactory(
            companies=[company],
            full_name=name,
            presence=Presence.AVAILABLE,
            last_seen_at=timezone.now(),
        )
        for name in ("Ava Patel", "Ben Okafor", "Chloe Martin")
    ]
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    # a group with two assignees, through the admin form and its inline
    page.goto("/admin/routing/reassignmentgroup/add/")
    page.fill("#id_name", "Closers")
    page.select_option("#id_method", "round_robin")
    for n, person in enumerate(people[:2]):
        if n:
            page.click(".add-row a")
        page.click(f"#members-{n} .field-agent .select2-selection")
        page.fill(".select2-search__field", person.full_name.split()[0])
        page.click(f".select2-results__option:has-text('{person.full_name}')")
    screenshot(page, "admin-group-form")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    group = ReassignmentGroup.objects.get(name="Closers")
    assert group.members.count() == 2
    GroupMember.objects.create(group=group, agent=people[2])
    for n in range(4):
        contact = contact_create(company=company, actor=None, phone=f"+1202555{n + 900:04d}")
        reassignment_start(contact=contact, group=group, actor=None)
    # the fairness page: counts, spread and what the next contacts would do
    page.goto("/admin/routing/reassignmentgroup/")
    page.click("text=Fairness & simulate")
    page.wait_for_selector("#fairness")
    assert page.inner_text("#fairness-spread") == "1"
    assert page.locator("#simulation li").count() == 10
    screenshot(page, "admin-group-fairness")


def test_a_first_to_claim_groups_fairness_page_shows_who_is_offered(
    page, company, company_admin, screenshot
):
    # given a first-to-claim group of three, one of them offline
    company_admin.can_manage_routing = True
    company_admin.save()
    group = ReassignmentGroup.objects.create(
        company=company, name="Closers", method="first_to_claim"
    )
    for name, seen in (("Ava Patel", True), ("Ben Okafor", True), ("Chloe Martin", False)):
        person = AgentFactory(
            companies=[company],
            full_name=name,
            presence=Presence.AVAILABLE,
            last_seen_at=timezone.now() if seen else None,
        )
        GroupMember.objects.create(group=group, agent=person)
    # when the admin opens its fairness page
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    page.goto(f"/admin/routing/reassignmentgroup/{group.pk}/fairness/")
    # then it lists who the next contact is offered to at once, and who is passed over
    offered = page.locator("#simulation-offered li").all_inner_texts()
    assert offered == ["Ava Patel", "Ben Okafor"]
    assert "Chloe Martin (offline)" in page.inner_text("#simulation-skipped")
    screenshot(page, "admin-group-fairness-first-to-claim")


def test_admin_rotates_the_webhook_token(page, company, company_admin, screenshot):
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    page.goto(f"/admin/agents/company/{company.pk}/change/")
    page.click("text=Rotate token…")
    page.click("input[value='Rotate the token']")
    token = page.inner_text("#new-token")
    assert token.startswith("sbw_")
    screenshot(page, "admin-rotate-token")


def test_admin_sends_selected_contacts_through_a_group_via_its_page(
    page, company, company_admin, screenshot
):
    ben = AgentFactory(
        companies=[company],
        full_name="Ben Okafor",
        presence=Presence.AVAILABLE,
        last_seen_at=timezone.now(),
    )
    group = ReassignmentGroup.objects.create(company=company, name="Team", method="round_robin")
    GroupMember.objects.create(group=group, agent=ben)
    contact_create(company=company, actor=None, name="Olivia Nguyen", phone="+12025550142")
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    page.goto("/admin/contacts/contact/")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "reassign_through_group")
    page.click("button[name=index]")
    page.wait_for_selector("#id_group")
    screenshot(page, "admin-choose-group")
    page.select_option("#id_group", label="Team (round robin)")
    page.click("input[value='Send through the group']")
    page.wait_for_selector(".messagelist .success")
    assert "Sent 1 contact(s) through Team." in page.inner_text(".messagelist")
    screenshot(page, "admin-contacts-after-reassign")
    # the why-log entry names its agents (the log keeps their ids)
    decision = Decision.objects.get(contact__name="Olivia Nguyen")
    page.goto(f"/admin/routing/decision/{decision.pk}/change/")
    assert page.inner_text(".field-candidates_named .readonly") == "Ben Okafor"
    screenshot(page, "admin-why-log-entry")
    # and the contacts' search (the searches' own table) finds her by a fragment
    page.goto("/admin/contacts/contact/?q=nguy")
    assert "Olivia Nguyen" in page.inner_text("#result_list")
    screenshot(page, "admin-contacts-search")
