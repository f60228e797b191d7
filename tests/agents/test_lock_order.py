"""The one lock order (agents/lockorder.py): checked in every test of the suite."""

import pytest
from django.conf import settings
from django.db import transaction

from agents.lockorder import ALONE, ORDER, Level, LockOrderViolation, lock_taken
from contacts.locks import lock_contact
from routing.locks import lock_group
from tests.factories import ContactFactory
from tests.lockwait import backend_pid, wait_until_someone_waits_for
from tests.routing.helpers import group_of

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


@transaction.atomic
def _take(*levels: Level, keys=()) -> None:
    # One decorated function, so every call reuses one Atomic object (as services do).
    for level in levels:
        lock_taken(level, keys)


def test_the_check_is_on_in_the_test_suite():
    assert settings.LOCK_ORDER_CHECK is True


def test_the_order_lists_every_level_once():
    assert set(ORDER) | ALONE == set(Level)
    assert not set(ORDER) & ALONE
    assert ORDER.index(Level.GROUP) < ORDER.index(Level.ROUND) < ORDER.index(Level.CONTACT)
    assert ORDER.index(Level.CONTACT) < ORDER.index(Level.LEAD) < ORDER.index(Level.PRIMARY_LOAD)


def test_a_reversed_order_raises_naming_both_levels(company, agent):
    # given a contact and a group
    contact = ContactFactory(company=company)
    group = group_of(company, [agent], "round_robin")

    # when one transaction locks the contact, then the group
    with (
        pytest.raises(LockOrderViolation, match="group requested after contact"),
        transaction.atomic(),
    ):
        lock_contact(contact.pk)
        lock_group(group.pk)


def test_the_order_forwards_and_one_level_twice_are_fine(company, agent):
    contacts = ContactFactory.create_batch(2, company=company)
    group = group_of(company, [agent], "round_robin")
    with transaction.atomic():
        lock_group(group.pk)
        lock_contact(contacts[0].pk)
        lock_contact(contacts[1].pk)  # rows of one level, in pk order
        _take(Level.LEAD, Level.PRIMARY_LOAD)


def test_rows_of_one_level_out_of_pk_order_fail(company, agent):
    # given a transaction holding the contact with the higher pk
    low, high = sorted(ContactFactory.create_batch(2, company=company), key=lambda c: c.pk)
    with transaction.atomic():
        lock_contact(high.pk)
        # when it then asks for the lower one, a wait that can close a cycle
        # then the check refuses it and says to take rows in pk order
        with pytest.raises(LockOrderViolation, match="primary-key order"):
            lock_contact(low.pk)
        # and the row it already holds may be asked for again
        lock_contact(high.pk)


def test_rows_already_held_may_be_locked_again_after_a_higher_level(company, agent):
    # given a transaction holding a group, then a contact
    contact = ContactFactory(company=company)
    group = group_of(company, [agent], "round_robin")
    other = group_of(company, [agent], "least_loaded")
    with transaction.atomic():
        lock_group(group.pk)
        lock_contact(contact.pk)
        # when it locks the same group again (a handover's rounds do): no new wait
        lock_group(group.pk)
        # but another group now is a wait that can close a cycle
        with pytest.raises(LockOrderViolation, match="group requested after contact"):
            lock_group(other.pk)


def test_the_order_starts_again_in_the_next_transaction():
    _take(Level.PRIMARY_LOAD)
    _take(Level.GROUP)  # a new transaction (the same Atomic object, entered again)
    with pytest.raises(LockOrderViolation, match="rule requested after round"):
        _take(Level.ROUND, Level.RULE)
    _take(Level.RULE)  # the rolled-back transaction left nothing behind


def test_a_released_savepoint_keeps_its_levels():
    with (
        pytest.raises(LockOrderViolation, match="group requested after contact"),
        transaction.atomic(),
    ):
        with transaction.atomic():  # a nested service: its locks stay until the commit
            lock_taken(Level.CONTACT, [1])
        lock_taken(Level.GROUP, [1])


def test_a_rolled_back_savepoint_forgets_its_levels():
    # (PostgreSQL releases the locks taken after a savepoint when it is rolled back)
    with transaction.atomic():
        try:
            with transaction.atomic():
                lock_taken(Level.CONTACT, [1])
                raise Boom
        except Boom:
            pass
        lock_taken(Level.GROUP, [1])


def test_a_level_that_stands_alone_takes_no_other_lock():
    with pytest.raises(LockOrderViolation, match="offer_email stands alone.*contact"):
        _take(Level.CONTACT, Level.OFFER_EMAIL)
    with pytest.raises(LockOrderViolation, match="contact requested .* holding lead_email"):
        _take(Level.LEAD_EMAIL, Level.CONTACT)
    _take(Level.ALERT_STATE, Level.ALERT_STATE)  # one kind after another, in a loop


def test_outside_a_transaction_nothing_is_recorded():
    # (autocommit: each statement is a transaction of its own)
    lock_taken(Level.PRIMARY_LOAD)
    lock_taken(Level.AGENT)


def test_off_the_check_costs_nothing_and_raises_nothing(settings):
    settings.LOCK_ORDER_CHECK = False
    _take(Level.PRIMARY_LOAD, Level.AGENT)


@pytest.mark.django_db(transaction=True)
def test_outermost_transactions_are_checked_and_forgotten_alike():
    # given no test-case transaction around: each service's block is a real transaction
    _take(Level.CONTACT)
    _take(Level.GROUP)
    with pytest.raises(LockOrderViolation, match="group requested after contact"):
        _take(Level.CONTACT, Level.GROUP)
    _take(Level.GROUP)


@pytest.mark.postgres
def test_waiting_for_a_lock_wait_fails_when_nobody_waits():
    # (the race tests wait for the other thread's lock wait in pg_locks, not for a while)
    with pytest.raises(pytest.fail.Exception, match="no transaction waited"):
        wait_until_someone_waits_for(backend_pid(), timeout=0.1)
