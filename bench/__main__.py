"""Run the benchmarks on a database of their own and write the results down.

PostgreSQL is used when reachable (``BENCH_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/switchboard_bench); otherwise a SQLite file in var/. Every
run starts from an empty database (the bench's own, dropped and created again), so every
figure includes building its data and a schema change that breaks a benchmark shows at once.

``BENCH_SCALE=0.01`` runs everything at a hundredth of its size: targets are reported, not
enforced, and the results go to var/bench-scaled.md instead of docs/performance.md.
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


def _fresh_database() -> str:
    """The bench's own database, empty: dropped and created again (it holds nothing else)."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
    if url.startswith("postgres"):
        try:
            import psycopg

            base, name = url.rsplit("/", 1)
            if not name.startswith("switchboard_bench"):
                sys.exit(f"Refusing to empty {name!r}: the bench's database is switchboard_bench*.")
            with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
            return url
        except psycopg.OperationalError as error:
            print(f"PostgreSQL not reachable ({error}); benchmarking on SQLite instead.")
            url = f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
    path = Path(url.removeprefix("sqlite:///"))
    if not path.name.startswith("bench"):
        sys.exit(f"Refusing to empty {path}: the bench's SQLite file is named bench*.")
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return url


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
    os.environ["DATABASE_URL"] = _fresh_database()
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

    from bench.measure import FULL, SCALE

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
            + f" | {('yes' if r['met'] else '**no**') if FULL else 'not enforced'} |"
        )
    block = "\n".join(
        [
            BEGIN,
            f"Last run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; "
            f"Python {platform.python_version()}, {db}; data built from an empty database"
            + ("." if FULL else f"; BENCH_SCALE={SCALE} (targets not enforced)."),
            "",
            *table,
            END,
        ]
    )
    if FULL:
        doc = ROOT / "docs" / "performance.md"
        text = doc.read_text()
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        doc = ROOT / "var" / "bench-scaled.md"
        doc.parent.mkdir(exist_ok=True)
        text = block + "\n"
    doc.write_text(text)
    print(f"Written to {doc.relative_to(ROOT)}")
    if not rows:
        sys.exit("No benchmark ran.")
    if FULL and not all(r["met"] for r in rows):
        sys.exit("Some targets were missed; see docs/performance.md.")


if __name__ == "__main__":
    main()
