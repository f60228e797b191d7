"""The benchmark harness: ``make bench`` runs every ``bench/bench_*.py`` and writes
``docs/performance.md``. See docs/performance.md for how to add one."""
