"""What `make run` shows of availability at once (issue 21's demo): Chloe out of office with
Ben covering (an item of one of Chloe's contacts in Ben's Mine, marked covering), a 2-minute
text deadline (Ava's text moves to Active), Emma at capacity."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings

from agents.availability.models import Absence, ItemLoad
from agents.availability.rules import FULL, availability_one
from agents.models import Agent, Company
from contacts.models import Interaction
from routing.deadlines import deadlines_sweep

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=True)
def test_the_demo_shows_a_cover_a_deadline_and_a_full_agent_at_once():
    # when the demo is loaded (twice: a re-run changes nothing)
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    company = Company.objects.get(name="Northwind Realty")
    ava, ben, chloe, emma = (
        Agent.objects.get(email=f"{name}@northwind.test")
        for name in ("ava", "ben", "chloe", "emma")
    )
    # then Chloe is out of office until the day after tomorrow, Ben covering
    absence = Absence.objects.get(agent=chloe)
    assert absence.cover == ben and absence.ends_at - absence.starts_at > timedelta(days=1)
    # and one of Chloe's contacts' items is in Ben's Mine, marked covering for her
    covering = Interaction.objects.get(covering_for=chloe)
    assert covering.routed_to == ben and covering.contact.primary_agent == chloe
    # and Emma is at capacity
    assert ItemLoad.objects.get(company=company, agent=emma).total == emma.capacity == 2
    assert availability_one(emma, company=company).status == FULL
    # and Ava's text has a 2-minute deadline: past it, the sweep moves it to Active
    text = Interaction.objects.get(routed_to=ava, channel="text", response_due_at__isnull=False)
    assert text.response_due_at - text.created_at <= timedelta(minutes=2, seconds=1)
    deadlines_sweep(now=text.response_due_at + timedelta(seconds=1))
    text.refresh_from_db()
    assert (text.routed_to, text.pool, text.response_missed_by) == (None, "active", ava)
    assert text.route_reason.startswith("Text not answered by Ava Patel within 2 working minutes")
    # while the covering form and Emma's forms (no form deadline) stay where they are
    covering.refresh_from_db()
    assert covering.routed_to == ben
    assert Interaction.objects.filter(routed_to=emma, status="open").count() == 2
