"""The API's docs pages (/api/v1/docs/ Swagger UI, /api/v1/redoc/ Redoc) and the schema:
public, served offline (no address outside this site), under a strict policy of their own:
no inline script, inline styles only with the answer's nonce."""

import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from drf_spectacular.generators import SchemaGenerator
from standardwebhooks.webhooks import Webhook

from api.models import Scope
from events.models import EventType
from tests.browser.csp import watch_csp

PAGES = ["/api/v1/docs/", "/api/v1/redoc/"]


def _policy(response) -> dict[str, str]:
    return {
        d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else ""
        for d in (p.strip() for p in response["Content-Security-Policy"].split(";"))
        if d
    }


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_the_docs_pages_are_public_and_load_only_files_of_this_site(client, url):
    # when a visitor without any key opens the page
    response = client.get(url)
    # then it is there, and every script and stylesheet is a file served here
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert sources
    for source in sources:
        assert source.startswith("/"), f"{source} is not of this site"
        if source.startswith("/static/"):
            assert finders.find(source.removeprefix("/static/")), f"{source} is not installed"
    assert "googleapis" not in page and "cdn." not in page


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_the_docs_pages_run_no_inline_script_and_style_only_with_a_fresh_nonce(client, url):
    # when the page is opened twice
    first, second = client.get(url), client.get(url)
    # then its policy allows scripts from files of this site only
    policy = _policy(first)
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert "unsafe-inline" not in first["Content-Security-Policy"]
    assert "unsafe-eval" not in first["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "'none'"
    # and every script tag is a file (no inline script at all)
    page = first.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    # and the inline styles carry the answer's nonce, a new one each time
    nonce = re.search(r"'nonce-([^']+)'", policy["style-src"]).group(1)
    assert re.findall(r"<style([^>]*)>", page) == [f' nonce="{nonce}"']
    assert nonce not in second["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_each_docs_page_serves_its_init_script_as_javascript(client, url):
    # given the script the page names
    page = client.get(url).content.decode()
    script_url = re.findall(r'<script src="([^"]+)"', page)[-1]
    assert script_url.startswith(url) and "script" in script_url
    # when it is fetched
    script = client.get(script_url)
    # then it is the init script
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"/api/v1/schema/" in script.content or b"specUrl" in script.content


@pytest.mark.django_db
def test_the_schema_is_public_and_lists_the_contacts_operations(client):
    # when
    response = client.get("/api/v1/schema/?format=json")
    # then
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Switchboard API"
    assert "/api/v1/contacts/" in schema["paths"]


# --- In a browser ----------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1366, 390], ids=["desktop", "390px"])
def test_swagger_ui_lists_the_operations_with_no_csp_violation(page, screenshot, width):
    # given a browser watching for policy violations
    page.set_viewport_size({"width": width, "height": 860})
    violations = watch_csp(page)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # when it opens Swagger UI
    page.goto("/api/v1/docs/")
    # then the operations are listed, from the schema of this site
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/contacts/" in [p.strip() for p in paths]
    assert "Switchboard API" in page.inner_text(".info .title")
    # and one operation opens with its parameters
    page.locator(".opblock-summary-path", has_text="/api/v1/contacts/").first.click()
    page.wait_for_selector(".opblock.is-open .parameters")
    screenshot(page, f"api-docs-swagger-{width}")
    assert violations == []
    assert errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1366, 390], ids=["desktop", "390px"])
def test_redoc_lists_the_operations_styled_with_no_csp_violation(page, screenshot, width):
    # given
    page.set_viewport_size({"width": width, "height": 860})
    violations = watch_csp(page)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # when it opens Redoc
    page.goto("/api/v1/redoc/")
    # then the operations are listed (in the menu, by their summaries) and styled: Redoc's
    # styles (inserted with the nonce) applied, e.g. its fixed-width side menu
    page.wait_for_selector(".menu-content", state="attached", timeout=20_000)
    page.wait_for_selector("h2", timeout=20_000)
    text = page.inner_text("body")
    assert "Switchboard API" in text
    assert "/api/v1/contacts/" in text or "contacts_list" in text.replace(" ", "_").lower()
    style_tags = page.evaluate("document.querySelectorAll('style[data-styled]').length")
    assert style_tags >= 1
    if width > 800:  # the search box (its index runs in a worker) is in the side menu
        page.fill("input.search-input", "contact")
        page.wait_for_selector("[data-role='search:results'] li, .search-results li")
    screenshot(page, f"api-docs-redoc-{width}")
    # (Redoc always shows Redocly's logo from its CDN, and hides it when it fails to load:
    # refused, as everything from elsewhere is; the docs stay offline.)
    assert [v for v in violations if "cdn.redoc.ly/redoc/logo-mini.svg" not in v] == []
    assert errors == []


# --- docs/api.md stays true ------------------------------------------------------------------
API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_docs_api_md_names_every_path_scope_and_event_type():
    # given the operations the API serves
    doc = API_MD.read_text()
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    # then the page documents each one, every scope and every event type
    missing = [p for p in paths if p.removeprefix("/api/v1") not in doc]
    assert missing == [], f"document these in docs/api.md: {missing}"
    for scope in Scope.values:
        assert f"| `{scope}` |" in doc
    for event_type in EventType.values:
        assert f"`{event_type}`" in doc


def test_the_signature_example_of_docs_api_md_accepts_a_delivery_and_refuses_a_forgery():
    # given the page's Python example, with the endpoint's secret, and a body signed as
    # events.delivery signs each delivery
    code = re.search(r"```python\n(.*?)```", API_MD.read_text(), re.S).group(1)
    secret = "whsec_" + base64.b64encode(b"k" * 24).decode()
    seen, handled = set(), []
    namespace = {"already_seen": lambda i: i in seen, "handle": handled.append}
    exec(code.replace('"whsec_..."', repr(secret)), namespace)  # noqa: S102 - our own page
    body = json.dumps({"id": "e1", "type": "contact.created", "data": {}}).encode()
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_1", now, body.decode()),
    }
    # when the receiver gets it, then a forged body
    accepted = namespace["receive"](body, headers)
    forged = namespace["receive"](body.replace(b"created", b"deleted"), headers)
    # then the delivery is handled and the forgery refused
    assert (accepted, forged) == (200, 400)
    assert [event["type"] for event in handled] == ["contact.created"]
