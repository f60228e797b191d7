"""Run the benchmarks on a database of their own and write the results down.

PostgreSQL is used when reachable (``BENCH_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/switchboard_bench, created if missing); otherwise a SQLite
file in var/. Results replace the generated part of docs/performance.md.
"""

import datetime as dt
import importlib
import os
import platform
import re
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/switchboard_bench"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _pick_database() -> str:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
    if not url.startswith("postgres"):
        return url
    try:
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return url
    except Exception as error:  # noqa: BLE001 - fall back to SQLite, and say so
        print(f"PostgreSQL not reachable ({error}); benchmarking on SQLite instead.")
        return f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except OSError:
        mem = "?"
    return f"{os.cpu_count()} cores ({cpu}), {mem} RAM, {platform.system()} {platform.release()}"


def main() -> None:
    os.environ["DATABASE_URL"] = _pick_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # DEBUG stays off (as in production), which refuses the built-in development key.
    os.environ.setdefault("SECRET_KEY", "bench-only-" + secrets.token_urlsafe(40))
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    os.environ.setdefault("EMAIL_URL", "dummymail://")
    # The routing benchmark's expiry step runs real workers on Redis when there is one.
    if "REDIS_URL" not in os.environ:
        try:
            import redis

            redis.Redis.from_url("redis://127.0.0.1:6379/9", socket_connect_timeout=1).ping()
            os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/9"
        except Exception as error:  # noqa: BLE001 - no Redis: that step says it is skipped
            print(f"No Redis at 127.0.0.1:6379 ({error}); the worker-kill step is skipped.")
    # Pages render without collectstatic's manifest.
    os.environ.setdefault(
        "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    db = f"{connection.vendor} {'.'.join(map(str, connection.Database.__version__.split()[:1]))}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            db = f"PostgreSQL {cursor.fetchone()[0]}"

    only = set(sys.argv[1:])
    rows = []
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        if only and path.stem not in only:
            continue
        module = importlib.import_module(f"bench.{path.stem}")
        print(f"== {path.stem}")
        for result in module.run():
            value = f"{result['value']} {result['unit']}"
            print(f"   {result['name']}: {value} (target {result['target']})")
            rows.append(result)

    table = [
        "| benchmark | result | target | peak memory | met |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        table.append(
            f"| {r['name']} | {r['value']} {r['unit']} | {r['target']} | "
            + (
                "not measured"
                if r["peak_mib"] is None
                else f"{r['peak_mib']:.2f} MiB"
                + (f" ({r['peak_note']})" if r.get("peak_note") else "")
            )
            + f" | {'yes' if r['met'] else '**no**'} |"
        )
    block = "\n".join(
        [
            BEGIN,
            f"Last run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; "
            f"Python {platform.python_version()}, {db}.",
            "",
            *table,
            END,
        ]
    )
    doc = ROOT / "docs" / "performance.md"
    text = doc.read_text()
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    doc.write_text(text)
    print(f"Written to {doc.relative_to(ROOT)}")
    if not all(r["met"] for r in rows):
        sys.exit("Some targets were missed; see docs/performance.md.")


if __name__ == "__main__":
    main()
