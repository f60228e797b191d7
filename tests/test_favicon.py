"""Browsers ask every page's icon: /favicon.ico answers with a file that exists."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_to_a_static_icon_that_exists(client):
    # when a browser asks for /favicon.ico
    response = client.get("/favicon.ico")
    # then it is sent, for good, to the static file, which is an icon
    assert response.status_code == 301
    assert response["Location"].startswith("/static/favicon")
    found = finders.find("favicon.ico")
    assert found is not None
    assert Path(found).read_bytes()[:4] == b"\x00\x00\x01\x00"  # the ICO header


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_pages_link_the_icon(client, url):
    body = client.get(url).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg"' in body
    assert finders.find("favicon.svg") is not None
