import pytest
from django.core.management import call_command

from campaigns.models import Campaign, Entry

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_a_running_agent_owned_campaign_with_errors_once(settings):
    settings.DEBUG = True
    # when the demo is loaded twice
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    # then there is one running campaign, records for Chloe and Diego, and three errors
    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.RUNNING and campaign.agent_owned
    queued = Entry.objects.filter(campaign=campaign, state=Entry.State.QUEUED)
    assert set(queued.values_list("agent__email", flat=True)) == {
        "chloe@northwind.test",
        "diego@northwind.test",
    }
    assert set(
        Entry.objects.filter(campaign=campaign, state=Entry.State.ERROR).values_list(
            "error", flat=True
        )
    ) == {"invalid_email", "unknown_email", "not_in_queue"}
    assert campaign.contact_list.imports.get().rows_rejected == 1
