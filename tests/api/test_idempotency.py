"""``Idempotency-Key`` on the contacts' writes: a replay creates nothing, another payload is
422, a refused request keeps no answer, and two requests at once with one key make one
contact (PostgreSQL, real threads)."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from api.models import IdempotencyRecord
from api.resources import contacts as resource
from contacts.models import Contact, TimelineEntry
from tests.api.conftest import client_for
from tests.factories import ContactFactory
from tests.lockwait import backend_pid, wait_until_someone_waits_for

URL = "/api/v1/contacts/"


def key(value: str) -> dict:
    return {"headers": {"Idempotency-Key": value}}


@pytest.mark.django_db
def test_the_same_key_and_payload_replay_the_answer_and_create_nothing(api):
    # given
    payload = {"name": "Olivia", "phone": "+12025550142"}
    first = api.post(URL, payload, format="json", **key("crm-1"))
    # when
    again = api.post(URL, payload, format="json", **key("crm-1"))
    # then
    assert first.status_code == 201
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Contact.objects.count() == 1
    assert TimelineEntry.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_payload_is_422_and_changes_nothing(api):
    # given
    api.post(URL, {"phone": "+12025550142"}, format="json", **key("crm-2"))
    # when
    response = api.post(URL, {"phone": "+12025550143"}, format="json", **key("crm-2"))
    # then
    assert response.status_code == 422
    assert response.json()["type"] == "urn:switchboard:problem:idempotency-key-reused"
    assert "“crm-2”" in response.json()["detail"]
    assert list(Contact.objects.values_list("phone", flat=True)) == ["+12025550142"]


@pytest.mark.django_db
def test_a_validation_error_is_not_kept_so_the_corrected_retry_with_the_key_works(api):
    # given a first try with a bad number
    refused = api.post(URL, {"phone": "12"}, format="json", **key("crm-3"))
    assert refused.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="crm-3").exists()
    # when the integration corrects it and retries with the same key
    fixed = api.post(URL, {"phone": "+12025550142"}, format="json", **key("crm-3"))
    # then
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed
    assert Contact.objects.get().phone == "+12025550142"


@pytest.mark.django_db
def test_a_patch_and_a_primary_agent_change_replay_too(api, company, agent):
    # given
    contact = ContactFactory(company=company)
    owner = f"{URL}{contact.pk}/primary-agent/"
    api.patch(f"{URL}{contact.pk}/", {"name": "A"}, format="json", **key("p-1"))
    api.put(owner, {"agent": agent.pk}, format="json", **key("o-1"))
    # when: the same requests again, after someone else changed the contact
    api.patch(f"{URL}{contact.pk}/", {"name": "B"}, format="json")
    name_again = api.patch(f"{URL}{contact.pk}/", {"name": "A"}, format="json", **key("p-1"))
    owner_again = api.put(owner, {"agent": agent.pk}, format="json", **key("o-1"))
    # then: the first answers, nothing changed by the replays
    assert name_again["Idempotent-Replayed"] == "true"
    assert name_again.json()["name"] == "A"
    assert owner_again["Idempotent-Replayed"] == "true"
    contact.refresh_from_db()
    assert contact.name == "B"
    assert contact.ownership_version == 1


@pytest.mark.django_db
def test_keys_are_per_company(company, other_company):
    # given
    ours, theirs = client_for(company), client_for(other_company)
    ours.post(URL, {"phone": "+12025550142"}, format="json", **key("same"))
    # when
    response = theirs.post(URL, {"phone": "+12025550142"}, format="json", **key("same"))
    # then
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Contact.objects.filter(company=other_company).count() == 1


@pytest.mark.django_db
def test_keys_are_per_api_key_so_two_keys_of_one_company_each_run(company):
    # given two integrations of one company, each with its own API key
    crm, shop = client_for(company, name="CRM sync"), client_for(company, name="Shop")
    first = crm.post(URL, {"phone": "+12025550142"}, format="json", **key("order-1"))
    # when the other key sends the same Idempotency-Key, with the same and another payload
    same = shop.post(URL, {"phone": "+12025550142"}, format="json", **key("order-1"))
    other = shop.post(URL, {"phone": "+12025550143"}, format="json", **key("order-2"))
    crm_other = crm.post(URL, {"phone": "+12025550143"}, format="json", **key("order-2"))
    # then each key's request runs (no replay of the other key's answer, no 422 telling it
    # which key strings the other used): the same number is now a duplicate of the first
    assert first.status_code == 201
    assert same.status_code == 400
    assert "Idempotent-Replayed" not in same
    assert "phone" in same.json()["errors"]
    assert other.status_code == 201
    assert crm_other.status_code == 400
    assert "Idempotent-Replayed" not in crm_other
    assert Contact.objects.filter(company=company).count() == 2
    # and a key still replays its own answer
    again = crm.post(URL, {"phone": "+12025550142"}, format="json", **key("order-1"))
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_with_one_key_create_one_contact(company, monkeypatch):
    # given the first request holds its key's row while it creates the contact
    raw = client_for(company).raw_key

    real_save = resource.contact_save_routed
    inside = threading.Event()
    release = threading.Event()
    holder: list[int] = []

    def slow_save(**kwargs):
        holder.append(backend_pid())
        inside.set()
        release.wait(15)
        return real_save(**kwargs)

    monkeypatch.setattr(resource, "contact_save_routed", slow_save)
    answers: list = [None, None]

    def post(i: int) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
            answers[i] = client.post(URL, {"phone": "+12025550142"}, format="json", **key("race-1"))
        finally:
            connection.close()

    first = threading.Thread(target=post, args=(0,))
    first.start()
    assert inside.wait(15)
    # when a second request with the same key arrives meanwhile
    second = threading.Thread(target=post, args=(1,))
    second.start()
    wait_until_someone_waits_for(holder[0])
    release.set()
    first.join(30)
    second.join(30)
    # then it waited for the first and replayed its answer
    assert answers[0].status_code == 201
    assert answers[1].status_code == 201
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert answers[1].json() == answers[0].json()
    assert Contact.objects.filter(company=company).count() == 1
    assert len(holder) == 1  # the second never ran the write
