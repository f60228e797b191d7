import time
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager


@contextmanager
def measured():
    """Time a block and track the peak Python memory it allocates."""
    box: dict[str, float] = {}
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - start
        box["peak_mib"] = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def result(
    name: str, value: float, unit: str, target: str, peak_mib: float, met: bool | Callable[[], bool]
) -> dict:
    return {
        "name": name,
        "value": round(value, 2),
        "unit": unit,
        "target": target,
        "peak_mib": peak_mib,
        "met": met() if callable(met) else met,
    }
