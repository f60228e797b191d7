"""The webhook under load: gunicorn on this machine, a paced open-loop client."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    # A port of our own: another benchmark (or a second checkout's) may be serving on 8765.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def webhook_load(
    *, token: str, payload: Callable[[int], dict], rate: int, seconds: int
) -> tuple[list[float], float]:
    """Serve with gunicorn and POST ``payload(n)`` to the webhook ``rate`` times a second for
    ``seconds``; return the latencies (ms, inf for a failure) and the workers' peak RSS (MiB)."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "4",  # the setting docs/operations.md recommends (2 × cores)
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def send(n: int) -> None:
            body = json.dumps(payload(n)).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/inbound/",
                data=body,
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    response.read()
                    ok = response.status == 201
            except OSError as error:
                ok = False
                errors.append(str(error))
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed if ok else float("inf"))

        for n in range(20):  # warm every worker's connection
            send(n)
        latencies.clear()
        threads = []
        start = time.perf_counter()
        for n in range(rate * seconds):
            due = start + n / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            thread = threading.Thread(target=send, args=(1000 + n,))
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        rss = workers_peak_rss(server.pid)
        if errors:
            print(f"   {len(errors)} webhook errors, e.g. {errors[0]}")
        return latencies, rss
    finally:
        server.terminate()
        server.wait(timeout=20)


def workers_peak_rss(master_pid: int) -> float:
    """The highest peak RSS (MiB) among the gunicorn master's worker processes."""
    rss = 0.0
    for child in Path("/proc").glob("[0-9]*"):
        try:
            status = (child / "status").read_text()
        except OSError:
            continue
        if f"PPid:\t{master_pid}" in status:
            hwm = [line for line in status.splitlines() if line.startswith("VmHWM")]
            if hwm:
                rss = max(rss, int(hwm[0].split()[1]) / 1024)
    return rss


# --- Closed loop: wrk ---------------------------------------------------------------------
# A Python client on 2 cores measures itself; wrk (C, one thread, epoll) keeps N connections
# busy — each sends its next request as soon as the answer is in — for a fixed time.
WRK_SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct {{ long tv_sec; long tv_nsec; }} bench_timespec;
int clock_gettime(int clk, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local MODE, PATH, TOKEN, RUN = "{mode}", "{path}", "{token}", "{run}"
local KNOWN, FIRST_NEW, RATE = {known}, {first_new}, {rate}
-- "callers" mode: calls to a contact center from a pool of KNOWN callers (+1313555NNNN).
local CENTER, CALL_TYPE = "{center}", "{call_type}"
tid = 0
local counter = 0
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  math.randomseed(7919 * (tid + 1) + {seed})
end

function request()
  counter = counter + 1
  local phone
  local body
  if MODE == "callers" then
    phone = string.format("+1313555%04d", math.random(0, KNOWN - 1))
    body = '{{"channel":"call","phone":"' .. phone .. '","contact_center":"' .. CENTER ..
      '","call_type":"' .. CALL_TYPE .. '"}}'
  else
    if MODE == "new" then
      phone = string.format("+1646%07d", FIRST_NEW + tid * 200000 + counter)
    else
      phone = string.format("+1212%07d", 2000001 + math.random(0, KNOWN - 1))
    end
    body = '{{"channel":"text","phone":"' .. phone .. '","body":"bench ' .. counter .. '"}}'
  end
  local headers = {{
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. TOKEN,
    ["Idempotency-Key"] = RUN .. "-" .. tid .. "-" .. counter,
  }}
  return wrk.format("POST", PATH, headers, body)
end

if RATE > 0 then
  -- Paced: the next request is due 1/RATE s after the previous one (all connections share
  -- the schedule), so the server sees RATE requests/s while it keeps up.
  local due = nil
  function delay()
    local t = now_ms()
    if due == nil or due < t - 1000 then due = t end
    due = due + 1000 / RATE
    return math.max(0, math.floor(due - t))
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "bad_status": %d, "socket_errors": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def wrk_available() -> bool:
    import shutil

    return shutil.which("wrk") is not None


def _wait_until_serving(port: int, process: subprocess.Popen) -> None:
    for _ in range(150):
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start within 30 s")


class Served:
    """gunicorn serving ``settings`` (``config.settings``, or the floor's) on a free port."""

    def __init__(self, *, settings: str, workers: int, threads: int = 1):
        self.settings, self.workers, self.threads = settings, workers, threads
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Served":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": self.settings,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "EMAIL_URL": "dummymail://",
            "LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "-m", "gunicorn", "config.wsgi"]
        command += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)]
        if self.threads > 1:
            command += ["--threads", str(self.threads)]
        command += ["--log-level", "warning"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        _wait_until_serving(self.port, self.process)
        return self

    def peak_rss(self) -> float:
        assert self.process is not None
        return workers_peak_rss(self.process.pid)

    def answering(self, *, path: str, body: dict | None = None, timeout: float = 60) -> "Served":
        """Wait until a worker answers ``path`` over HTTP (any status; a POST of ``body`` as
        JSON when given): the master binds the port before its workers have imported Django,
        which takes seconds on a loaded machine, and a paced warm-up run that starts before
        would warm nothing."""
        import urllib.error

        assert self.process is not None
        deadline = time.monotonic() + timeout
        data = None if body is None else json.dumps(body).encode()
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}{path}",
                data=data,
                headers={"Content-Type": "application/json"},
            )
            try:
                urllib.request.urlopen(request, timeout=5).read()  # noqa: S310
                return self
            except urllib.error.HTTPError:  # an answer all the same: a worker is up
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s") from None
                time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=20)

    def wrk(
        self,
        *,
        path: str,
        seconds: int,
        connections: int = 4,
        mode: str = "known",
        token: str = "",
        known: int = 1,
        first_new: int = 3_000_000,
        rate: int = 0,
        run: str = "",
        seed: int = 0,
        center: str = "",
        call_type: str = "",
    ) -> dict:
        """Load ``path`` with wrk for ``seconds`` (closed loop over ``connections``; paced at
        ``rate`` requests/s when given). Returns requests/s, p50/p95/p99 (ms), errors and the
        load average of the machine just before."""
        script = WRK_SCRIPT.format(
            mode=mode,
            path=path,
            token=token,
            run=run or f"r{time.time_ns()}",
            known=known,
            first_new=first_new,
            rate=rate,
            seed=seed,
            center=center,
            call_type=call_type,
        )
        script_path = ROOT / "var" / f"wrk-{os.getpid()}-{self.port}.lua"
        script_path.parent.mkdir(exist_ok=True)
        script_path.write_text(script)
        load = os.getloadavg()[0]
        try:
            done = subprocess.run(
                ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
                + ["-s", str(script_path), f"http://127.0.0.1:{self.port}{path}"],
                capture_output=True,
                text=True,
                timeout=seconds + 60,
                check=True,
            )
        finally:
            script_path.unlink(missing_ok=True)
        line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT "))
        raw = json.loads(line.removeprefix("WRK_RESULT "))
        return {
            "requests": raw["requests"],
            "rps": raw["requests"] / (raw["duration_us"] / 1e6),
            "p50": raw["p50_us"] / 1000,
            "p95": raw["p95_us"] / 1000,
            "p99": raw["p99_us"] / 1000,
            "errors": raw["bad_status"] + raw["socket_errors"],
            "load": load,
        }
