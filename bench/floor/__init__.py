"""The webhook's floor (issue 12): a bare Django endpoint doing only what any inbound webhook
must do — parse the JSON, lock the contact's row by phone (``SELECT … FOR UPDATE``) and insert
one row — on a table of phones of its own. Bench only: served by ``bench/bench_webhook.py``
with ``DJANGO_SETTINGS_MODULE=bench.floor.settings``; its tables are created by the bench
(raw SQL, no models, no migrations), never by the product."""
