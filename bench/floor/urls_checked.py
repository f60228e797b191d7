"""The product's URLs and one view before them: ``POST /api/floor/``, the webhook's own checks
(``routing.webhook.inbound_request``: the company's token looked up, the size, the JSON, the
fields and the Idempotency-Key; then the phone read as ``inbound_receive`` reads it), followed
by exactly the bare floor's work (``bench.floor.urls``: lock the phone's row, insert one row).

What it measures: how much of the bare floor's throughput is left once a request has been
checked as every webhook call must be, before any routing — the part of the gap between the
webhook and its floor that routing cannot win back (docs/performance.md)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from agents.phone import normalise_phone
from config.urls import urlpatterns as product
from routing.webhook import inbound_request

from .urls import floor_work


@csrf_exempt  # as the webhook: authenticated by its bearer token
@require_POST
def checked_floor(request: HttpRequest) -> HttpResponse:
    checked = inbound_request(request)
    if isinstance(checked, HttpResponse):
        return checked
    company, _key, fields = checked
    phone = normalise_phone(fields["phone"], region=company.default_region)
    return floor_work(phone=phone, body=fields["body"])


urlpatterns = [path("api/floor/", checked_floor), *product]
