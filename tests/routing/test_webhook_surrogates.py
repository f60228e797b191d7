"""A lone surrogate ("\\ud800" in the JSON) survives json.loads but no database stores it: the
webhook answers 400 JSON naming the field, on its fast path and through the whole stack."""

import pytest
from django.conf import settings
from django.test import override_settings

from agents.services import company_set_webhook_token
from contacts.models import Contact, Interaction
from routing.webhook import UNSTORABLE_TEXT

pytestmark = pytest.mark.django_db
TOKEN = "sbw_test_token_surrogates"
FIELDS = {"channel": "text", "phone": "+12025550142", "body": "Hello"}
WHOLE_STACK = [m for m in settings.MIDDLEWARE if m != "agents.middleware.ApiFastPathMiddleware"]


def raw_body(field: str) -> str:
    # Written by hand: json.dumps would escape the backslash itself.
    parts = [f'"{k}": "{v}"' for k, v in FIELDS.items() if k != field]
    parts.append(f'"{field}": "Hi \\ud800 there"')
    return "{" + ", ".join(parts) + "}"


@pytest.fixture
def post_raw(client, company):
    company_set_webhook_token(company=company, token=TOKEN)

    def _post(raw: str):
        return client.post(
            "/api/inbound/",
            data=raw.encode("ascii"),
            content_type="application/json",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )

    return _post


FIELD_NAMES = ["body", "source", "contact_center", "name", "phone", "email", "call_type"]


@pytest.mark.parametrize("field", FIELD_NAMES)
def test_a_lone_surrogate_is_a_400_naming_the_field(post_raw, field):
    # when a field holds a lone surrogate
    response = post_raw(raw_body(field))
    # then the answer is the webhook's JSON error for that field, and nothing is stored
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["error"] == "Some fields are not right."
    assert answer["errors"][field] == [UNSTORABLE_TEXT]
    assert not Interaction.objects.exists() and not Contact.objects.exists()


@pytest.mark.parametrize("field", ["body", "source", "contact_center", "name"])
def test_through_the_whole_stack_too(post_raw, field):
    # given the webhook without its fast path (every middleware runs)
    with override_settings(MIDDLEWARE=WHOLE_STACK):
        response = post_raw(raw_body(field))
    # then the same 400 JSON
    assert response.status_code == 400
    assert response.json()["errors"][field] == [UNSTORABLE_TEXT]
    assert not Interaction.objects.exists()


def test_a_surrogate_pair_is_one_character_and_is_stored(post_raw):
    # given a whole character written as a pair (U+1F600), not a lone half
    raw = raw_body("body").replace("\\ud800", "\\ud83d\\ude00")
    # when it comes in, then it is stored as that character
    response = post_raw(raw)
    assert response.status_code == 201
    assert Interaction.objects.get().body == "Hi \U0001f600 there"


def test_a_lone_surrogate_in_an_unknown_fields_name_is_a_400(post_raw):
    response = post_raw('{"channel": "text", "phone": "+12025550142", "\\udc00": "x"}')
    assert response.status_code == 400
    assert response.json()["errors"]["__all__"] == ["Unknown fields: \udc00."]
