"""``agents.rawsql.insert_one`` / ``insert_pair`` against ``save()``: the fast path skips
``save()`` and the save signals, so for every model written that way the same values stored
both ways give the same row, and the model has nothing that the fast path would skip."""

from datetime import UTC, datetime

import pytest
from django.db import connection, models, transaction
from django.db.models import signals

from agents.centers.models import QueueItem
from agents.rawsql import insert_one, insert_pair
from contacts.models import Contact, Interaction, TimelineEntry
from tests.agents.factories_centers import ContactCenterFactory
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

# Every model the project writes through insert_one or insert_pair (contacts.services,
# contacts.timeline, contacts.interactions): a new one belongs here.
FAST_PATH_MODELS = [Contact, TimelineEntry, Interaction, QueueItem]
AT = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
# Set by the database or the clock whichever way the row is stored.
NOT_COMPARED = {"id", "updated_at"}


def _row(model, pk) -> dict:
    row = model.objects.filter(pk=pk).values().get()
    return {name: value for name, value in row.items() if name not in NOT_COMPARED}


def _stored_both_ways(model, values: dict) -> tuple[dict, dict]:
    """The row ``insert_one`` stores, then (that row removed: unique keys) ``save()``'s."""
    fast = insert_one(model(**values))
    assert fast.pk is not None and not fast._state.adding
    stored = _row(model, fast.pk)
    model.objects.filter(pk=fast.pk).delete()
    slow = model.objects.create(**values)
    return stored, _row(model, slow.pk)


@pytest.mark.parametrize("model", FAST_PATH_MODELS, ids=lambda m: m.__name__)
def test_a_fast_path_model_has_no_save_override_and_no_save_signal_receivers(model):
    overriding = [
        cls.__name__
        for cls in model.__mro__[: model.__mro__.index(models.Model)]
        if "save" in cls.__dict__ or "save_base" in cls.__dict__
    ]
    assert overriding == [], f"{model.__name__}.save() is overridden: insert_one skips it"
    for signal in (signals.pre_save, signals.post_save):
        assert not signal.has_listeners(model), f"insert_one sends no signal for {model}"


def test_a_timeline_row_is_stored_as_save_stores_it(company, agent):
    contact = ContactFactory(company=company)
    fast, slow = _stored_both_ways(
        TimelineEntry,
        {
            "company_id": company.pk,
            "contact": contact,
            "kind": TimelineEntry.Kind.PRIMARY_ASSIGNED,
            "actor": agent,
            "agent": agent,
            "message": "Assigned to “Ann” — ✓",
            "details": {"from": None, "to": agent.pk, "nested": [1, "two", {"3": 4.5}]},
            "created_at": AT,
        },
    )
    assert fast == slow
    assert fast["details"]["nested"] == [1, "two", {"3": 4.5}] and fast["created_at"] == AT


def _update_row(company, details) -> dict:
    """A contact's "updated" timeline row holding ``details``."""
    return {
        "company_id": company.pk,
        "contact": ContactFactory(company=company),
        "kind": TimelineEntry.Kind.CONTACT_UPDATED,
        "message": "Details of every shape.",
        "details": details,
        "created_at": AT,
    }


@pytest.mark.parametrize(
    "details",
    [
        {1: "a number as a key", "2": [True, False, None]},
        {"big": 2**62, "float": 0.1, "negative": -7, "text": "“quoted” \\ \n\t ✓ \u0001"},
        {"choice": TimelineEntry.Kind.PRIMARY_ASSIGNED, "tuple": (1, 2), "empty": {}},
        [],
        "just a string",
        {"past 64 bits": 2**70, "below": -(2**70)},
    ],
    ids=["number-keys", "scalars", "choices-and-tuples", "list", "string", "big-integers"],
)
def test_json_of_any_shape_is_stored_as_save_stores_it(company, details):
    # (on PostgreSQL insert_one encodes JSON by orjson, save() by json.dumps)
    fast, slow = _stored_both_ways(TimelineEntry, _update_row(company, details))
    assert fast == slow


def test_json_that_save_refuses_is_refused_by_the_fast_path_too(company):
    # given details holding a moment (json.dumps refuses it; orjson alone would encode it)
    values = _update_row(company, {"at": AT})
    # then both ways refuse it, and nothing is stored
    with pytest.raises(TypeError), transaction.atomic():
        insert_one(TimelineEntry(**values))
    with pytest.raises(TypeError), transaction.atomic():
        TimelineEntry.objects.create(**values)
    assert not TimelineEntry.objects.filter(message=values["message"]).exists()


def test_a_timeline_row_with_defaults_is_stored_as_save_stores_it(company):
    # given only the required values (details, actor and agent left to their defaults)
    contact = ContactFactory(company=company)
    values = {
        "company_id": company.pk,
        "contact": contact,
        "kind": TimelineEntry.Kind.CONTACT_UPDATED,
        "message": "Name changed.",
        "created_at": AT,
    }
    fast, slow = _stored_both_ways(TimelineEntry, values)
    assert fast == slow and fast["details"] == {} and fast["actor_id"] is None


def test_a_queue_item_is_stored_as_save_stores_it(company):
    center = ContactCenterFactory(company=company)
    fast, slow = _stored_both_ways(
        QueueItem, {"center": center, "label": "call from Ann", "waiting_since": AT}
    )
    assert fast == slow


def test_an_interaction_is_stored_as_save_stores_it(company, agent):
    contact = ContactFactory(company=company)
    center = ContactCenterFactory(company=company)
    item = QueueItem.objects.create(center=center, label="call", waiting_since=AT)
    fast, slow = _stored_both_ways(
        Interaction,
        {
            "company_id": company.pk,
            "contact": contact,
            "channel": "call",
            "body": "Hello\nagain — ünïcode",
            "source": "web",
            "contact_center": center.name,
            "center": center,
            "ring": [{"agent": agent.pk, "devices": ["desk"]}],
            "queue_item": item,
            "routed_to_id": agent.pk,
            "pool": "active",
            "route_reason": "ring list",
            "route_details": {"type": "longest_idle"},
            "idempotency_key": "key-1",
            "request_hash": "abc",
            "created_at": AT,
        },
    )
    assert fast == slow
    assert fast["status"] == Interaction.Status.OPEN


def test_a_contact_and_its_first_timeline_row_are_stored_as_save_stores_them(company, agent):
    # given the values of a new contact and of its first timeline row
    contact_values = {
        "company": company,
        "name": "Zoë Müller",
        "phone": "+12125550101",
        "email": "zoe@example.com",
        "source": "web",
        "primary_agent": agent,
        "created_at": AT,
    }
    entry_values = {
        "company_id": company.pk,
        "kind": TimelineEntry.Kind.CONTACT_CREATED,
        "message": "Contact created from web.",
        "details": {"source": "web"},
        "created_at": AT,
    }
    # when they are stored in one statement, read back and removed ...
    contact, entry = Contact(**contact_values), TimelineEntry(**entry_values)
    insert_pair(contact, entry, link="contact")
    assert entry.contact_id == contact.pk and entry.contact is contact
    fast = _row(Contact, contact.pk), _row(TimelineEntry, entry.pk)
    assert fast[1]["contact_id"] == contact.pk
    TimelineEntry.objects.filter(pk=entry.pk).delete()
    Contact.objects.filter(pk=contact.pk).delete()
    # ... and then stored by save()
    saved = Contact.objects.create(**contact_values)
    saved_entry = TimelineEntry.objects.create(contact=saved, **entry_values)
    slow = _row(Contact, saved.pk), _row(TimelineEntry, saved_entry.pk)
    # then both rows are the same (but for their ids and the link to the contact's id)
    assert fast[0] == slow[0]
    assert {**fast[1], "contact_id": None} == {**slow[1], "contact_id": None}


def _lz4_available() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        return bool(cursor.fetchone()[0])


@pytest.mark.postgres
def test_a_calls_ring_list_is_compressed_by_lz4(company, agent):
    if not _lz4_available():
        pytest.skip("this PostgreSQL was built without lz4: the ring list keeps pglz")
    # given the migrations applied (contacts 0017); when a center's call stores its ring list
    contact = ContactFactory(company=company)
    ring = [{"agent": f"member{n}@example.test", "order": n, "devices": []} for n in range(300)]
    interaction = insert_one(
        Interaction(company_id=company.pk, contact=contact, channel="call", ring=ring)
    )
    # then it is stored compressed by lz4, and reads back as it was
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_compression(ring) FROM contacts_interaction WHERE id = %s",
            [interaction.pk],
        )
        assert cursor.fetchone()[0] == "lz4"
    assert Interaction.objects.get(pk=interaction.pk).ring == ring


def test_a_queue_item_and_its_call_are_stored_as_save_stores_them(company, agent):
    # given a center's call, stored by interaction_record's pair (one statement on PostgreSQL)
    contact = ContactFactory(company=company)
    center = ContactCenterFactory(company=company)
    item = QueueItem(center=center, label="call from Ann", waiting_since=AT)
    call = Interaction(
        company_id=company.pk,
        contact=contact,
        channel="call",
        center=center,
        ring=[{"agent": agent.email, "order": 1, "devices": [{"kind": "desk", "label": "Desk"}]}],
        routed_to_id=None,
        pool="",
        route_reason="ringing the center",
        created_at=AT,
    )
    insert_pair(item, call, link="queue_item")
    # then both are stored, linked, as save() stores them
    assert call.queue_item is item and call.queue_item_id == item.pk
    fast = (_row(QueueItem, item.pk), _row(Interaction, call.pk))
    Interaction.objects.filter(pk=call.pk).delete()
    QueueItem.objects.filter(pk=item.pk).delete()
    slow_item = QueueItem.objects.create(center=center, label="call from Ann", waiting_since=AT)
    call.pk, call.queue_item, call._state.adding = None, slow_item, True
    call.save()
    slow = (_row(QueueItem, slow_item.pk), _row(Interaction, call.pk))
    assert fast[0] == slow[0]
    assert {**fast[1], "queue_item_id": None} == {**slow[1], "queue_item_id": None}
