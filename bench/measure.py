import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager

# BENCH_SCALE=0.01 runs every benchmark at a hundredth of its size: fast, targets reported but
# not enforced (CI runs it on a fresh database so a schema change that breaks one fails CI).
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
FULL = SCALE == 1


def scaled(n: int, *, minimum: int = 1) -> int:
    """``n`` at the run's scale."""
    return max(minimum, round(n * SCALE))


def settle() -> None:
    """Start a timing from a settled database (PostgreSQL), after a big build: ``VACUUM
    ANALYZE`` (the visibility map and the statistics autovacuum would have by now) and
    ``CHECKPOINT`` (the build's writes on disk: a checkpoint they set off spreads its writes
    over minutes, across whatever is timed next)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


@contextmanager
def measured(*, trace_memory: bool = True):
    """Time a block and (optionally) track the peak Python memory it allocates.

    tracemalloc slows allocation-heavy code two- to threefold, so benchmarks time a step
    with ``trace_memory=False`` and measure its memory in a separate run."""
    box: dict[str, float] = {"peak_mib": 0.0}
    if trace_memory:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - start
        if trace_memory:
            box["peak_mib"] = tracemalloc.get_traced_memory()[1] / 1024 / 1024
            tracemalloc.stop()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def result(
    name: str,
    value: float,
    unit: str,
    target: str,
    peak_mib: float | None,
    met: bool | Callable[[], bool],
) -> dict:
    return {
        "name": name,
        "value": round(value, 2),
        "unit": unit,
        "target": target,
        "peak_mib": peak_mib,
        "met": met() if callable(met) else met,
    }


def page_timing(client, url: str, runs: int = 10) -> tuple[float, dict]:
    """Median time (ms) of ``runs`` requests after a warm-up, and one more traced for memory."""
    assert client.get(url).status_code == 200
    timings = []
    for _ in range(runs):
        with measured(trace_memory=False) as m:
            assert client.get(url).status_code == 200
        timings.append(m["seconds"] * 1000)
    with measured() as traced:
        client.get(url)
    return statistics.median(timings), traced
