"""The product's URLs and one bare view after them: ``POST /floor/work/`` behind the same
session and auth middleware as "next record", with the same check of the agent (logged in, an
access level that works campaigns, a current company), reserving one row of a bare table with
``UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING …`` and answering
with a redirect, as the product does. The table is created by the bench
(``bench.floor.tables.slots_build``), never by a migration."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.http import require_POST

from agents.permissions import access_level_required
from campaigns.permissions import WORKING
from config.urls import urlpatterns as product

from .tables import SLOTS


@require_POST
@access_level_required(*WORKING)
def reserve(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SLOTS} SET taken_by = %s, taken_at = now() "
            f"WHERE id = (SELECT id FROM {SLOTS} WHERE taken_by IS NULL "
            "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id",
            [request.user.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return HttpResponse("No free row left.", status=409, content_type="text/plain")
    return HttpResponseRedirect(f"/floor/work/{row[0]}/")


urlpatterns = [*product, path("floor/work/", reserve)]
