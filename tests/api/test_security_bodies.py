"""Bodies the API cannot read (security review): JSON nested deeper than Python decodes is a
400 problem (was a RecursionError, a 500); a body past DATA_UPLOAD_MAX_MEMORY_SIZE is a 413
problem naming the limit (was Django's HTML 400)."""

import json

import pytest

from contacts.models import Contact

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


def test_json_nested_too_deep_is_a_400_problem(api, company):
    # given a body of 100,000 nested arrays
    deep = "[" * 100_000 + "]" * 100_000
    # when it is sent to a create and to an update
    created = api.post(URL, deep, content_type="application/json")
    bulk = api.post(
        f"{URL}primary-agent/bulk/",
        '{"items": ' + deep + "}",
        content_type="application/json",
        headers={"Idempotency-Key": "deep-1"},
    )
    # then each is a 400 problem saying why, and nothing was created
    for response in (created, bulk):
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == "The body is not valid JSON (nested too deep)."
    assert not Contact.objects.exists()


@pytest.mark.parametrize("idempotency", [{}, {"Idempotency-Key": "big-1"}])
def test_a_body_past_the_upload_limit_is_a_413_problem_naming_it(api, settings, idempotency):
    # given a limit of 10,000 bytes and a contact whose name is longer
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"name": "x" * 20_000, "phone": "+12025550142"})
    # when
    response = api.post(URL, body, content_type="application/json", headers=idempotency)
    # then
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "The request body is too large: at most 10,000 bytes."
    assert response.json()["limit"] == 10_000
    assert not Contact.objects.exists()
