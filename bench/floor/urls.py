import json

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path

# Created by bench/bench_webhook.py (``floor_build``), never by a migration.
PHONES = "bench_floor_phone"
EVENTS = "bench_floor_event"


def floor(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    return floor_work(phone=data["phone"], body=data.get("body", ""))


def floor_work(*, phone: str, body: str) -> JsonResponse:
    """Lock the phone's row and insert one row (the second floor, ``urls_checked``, does the
    same after the webhook's checks)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {PHONES} WHERE phone = %s FOR UPDATE", [phone])
        row = cursor.fetchone()
        cursor.execute(
            f"INSERT INTO {EVENTS} (phone_id, body, created_at) VALUES (%s, %s, now()) "
            "RETURNING id",
            [row[0] if row else None, body],
        )
        event = cursor.fetchone()[0]
    return JsonResponse({"event": event, "phone": row[0] if row else None}, status=201)


urlpatterns = [path("floor/", floor)]
