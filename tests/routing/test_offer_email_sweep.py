"""An offer whose email was never queued (the broker down after commit) gets it from the
sweep, a minute later, once; never for an offer already emailed, closed or past its window."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from routing import tasks
from routing.models import Offer
from routing.rounds import reassignment_start
from tests.routing.helpers import book_of, group_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def unsent_offers(company, people):
    """Open offers to two agents whose email task was lost, made two minutes ago."""
    owner, ben, chloe = people
    group = group_of(company, [ben, chloe], "first_to_claim", claim_window_minutes=10)
    contact = book_of(company, owner, 1)[0]
    with mock.patch.object(tasks.send_offer_email, "delay_on_commit"):
        round_ = reassignment_start(contact=contact, group=group, actor=None)
    offers = Offer.objects.filter(round=round_).order_by("pk")
    offers.update(created_at=timezone.now() - timedelta(minutes=2))
    mail.outbox.clear()
    return list(offers)


def test_the_sweep_sends_the_emails_that_were_never_queued_once(unsent_offers):
    # when the sweep runs twice
    assert tasks.send_unsent_offer_emails() == 2
    assert tasks.send_unsent_offer_emails() == 0
    # then each agent got their offer's email once, and the offers say so
    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.agent.email for o in unsent_offers)
    assert all(m.subject.startswith("Claim ") for m in mail.outbox)
    assert not Offer.objects.filter(email_sent_at__isnull=True).exists()


def test_the_sweep_leaves_new_closed_expired_and_emailed_offers_alone(unsent_offers):
    # given four unsent offers the sweep must not email: one just made (its task may be on
    # the way), one closed, one past its window, and one emailed already
    young, closed = unsent_offers
    Offer.objects.filter(pk=young.pk).update(created_at=timezone.now())
    Offer.objects.filter(pk=closed.pk).update(status=Offer.Status.WITHDRAWN)
    assert tasks.send_unsent_offer_emails() == 0
    Offer.objects.filter(pk=young.pk).update(
        created_at=timezone.now() - timedelta(minutes=2), expires_at=timezone.now()
    )
    assert tasks.send_unsent_offer_emails() == 0
    Offer.objects.filter(pk=young.pk).update(
        expires_at=timezone.now() + timedelta(minutes=5), email_sent_at=timezone.now()
    )
    assert tasks.send_unsent_offer_emails() == 0
    # then nobody was emailed
    assert mail.outbox == []


def test_one_failing_email_does_not_stop_the_others(unsent_offers, caplog):
    first, second = unsent_offers
    real_send = tasks.send_mail

    def send_mail(**kwargs):
        if kwargs["recipient_list"] == [first.agent.email]:
            raise ConnectionRefusedError("SMTP down")
        return real_send(**kwargs)

    with mock.patch.object(tasks, "send_mail", send_mail):
        assert tasks.send_unsent_offer_emails() == 1
    assert [m.to for m in mail.outbox] == [[second.agent.email]]
    assert f"The email of offer {first.pk} could not be sent" in caplog.text
    # and the next sweep sends the one that failed
    assert tasks.send_unsent_offer_emails() == 1
