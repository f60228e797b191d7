"""Logging filters for the worker's log.

The periodic sweeps run every 5 to 60 s. Celery logs three INFO lines for each run (beat's
"Sending due task", the worker's "received" and "succeeded"), which buried everything else in
the demo's worker log. ``QuietPeriodicTasks`` drops those routine lines for the tasks named in
the beat schedule; their warnings and errors, and every other task's lines, still show. A
sweep that did something says so itself (``routing.tasks.sweep_rounds``).
"""

import logging
from collections.abc import Iterable


class QuietPeriodicTasks(logging.Filter):
    def __init__(self, tasks: Iterable[str] = ()) -> None:
        super().__init__()
        self.tasks = frozenset(tasks)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        args = record.args
        # celery.app.trace and celery.worker.strategy: logger.info(fmt, {"name": ..., ...})
        if isinstance(args, dict):
            return args.get("name") not in self.tasks
        # celery.beat: info("Scheduler: Sending due task %s (%s)", entry.name, entry.task)
        if isinstance(args, tuple) and len(args) == 2 and "Sending due task" in str(record.msg):
            return args[1] not in self.tasks
        return True
