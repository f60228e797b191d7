"""The contact-list limit (hundreds of MB) is for the admin's list uploads by staff only;
every other multipart POST, and any anonymous one, is refused above UPLOAD_MAX_BYTES."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from campaigns.upload_limit import LimitedUploadHandler, UploadLimitMiddleware

pytestmark = pytest.mark.django_db
MB = 1_048_576


@pytest.fixture(autouse=True)
def limits(settings):
    settings.CONTACT_LIST_MAX_UPLOAD_BYTES = 300 * MB
    settings.UPLOAD_MAX_BYTES = 10 * MB


def _post(path, length, user=None):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().generic(
        "POST",
        path,
        CONTENT_TYPE="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(length),
    )
    request.user = user or AnonymousUser()
    reached = []
    response = UploadLimitMiddleware(lambda r: reached.append(r) or HttpResponse())(request)
    return response, reached, request


@pytest.mark.parametrize("path", ["/login/", "/lead-center/", "/nowhere/", "/admin/login/"])
def test_a_large_upload_anywhere_else_is_refused_before_it_is_read(path):
    response, reached, _ = _post(path, 50 * MB)
    assert response.status_code == 413 and not reached
    assert b"larger than the limit of 10 MB" in response.content


def test_an_anonymous_large_upload_to_the_list_page_is_refused(company_admin):
    response, reached, _ = _post(reverse("admin:campaigns_contactlist_add"), 50 * MB)
    assert response.status_code == 413 and not reached


@pytest.mark.parametrize("view", ["add", "append"])
def test_staff_uploading_a_list_may_send_up_to_the_list_limit(company_admin, view):
    path = (
        reverse("admin:campaigns_contactlist_add")
        if view == "add"
        else reverse("admin:campaigns_contactlist_append", args=[1])
    )
    response, reached, request = _post(path, 50 * MB, user=company_admin)
    assert response.status_code == 200 and reached
    (handler,) = [h for h in request.upload_handlers if isinstance(h, LimitedUploadHandler)]
    assert handler.limit == 300 * MB
    # past it, still refused
    response, reached, _ = _post(path, 301 * MB, user=company_admin)
    assert response.status_code == 413 and not reached


def test_a_small_upload_elsewhere_is_read_with_the_small_limit():
    response, reached, request = _post("/lead-center/", 1 * MB)
    assert response.status_code == 200 and reached
    (handler,) = [h for h in request.upload_handlers if isinstance(h, LimitedUploadHandler)]
    assert handler.limit == 10 * MB
