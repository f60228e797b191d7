import json

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path

# Created by bench/bench_webhook.py (``floor_build``), never by a migration.
PHONES = "bench_floor_phone"
EVENTS = "bench_floor_event"


def floor(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {PHONES} WHERE phone = %s FOR UPDATE", [data["phone"]])
        row = cursor.fetchone()
        cursor.execute(
            f"INSERT INTO {EVENTS} (phone_id, body, created_at) VALUES (%s, %s, now()) "
            "RETURNING id",
            [row[0] if row else None, data.get("body", "")],
        )
        event = cursor.fetchone()[0]
    return JsonResponse({"event": event, "phone": row[0] if row else None}, status=201)


urlpatterns = [path("floor/", floor)]
