"""pytest plugin for benchmarks/mutation_score.py; does nothing outside its runs.

- At the end of mutmut's stats run, add the functions that ``crm`` subprocesses reached (see
  ``sitecustomize``) to the tests that started them.
- Leave out the tests marked slow, but for the files named in ``MUTMUT_CRM_KEEP_SLOW``.
- When a mutant runs, run the fastest tests first (the first failure ends the run), and give each test a wall-clock limit (pytest-timeout) of a few times what
  it took in the stats run. mutmut's own limit counts CPU seconds, and a mutant that makes a
  test wait (for a message that never comes, a lease that never ends) uses none: without this
  it would hold its slot for the test's own patience, often 30 s or more. A test that runs
  out of time fails, so the mutant counts as killed, which it is: the test noticed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SLACK = 4.0  # times the stats run's duration (two mutants run side by side: slower than alone)
FLOOR = 8.0  # seconds: start-up, a fixture's first database


def _stats_run() -> bool:
    return os.environ.get("MUTANT_UNDER_TEST") == "stats" and bool(os.environ.get("MUTMUT_CRM_DIR"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    folder = os.environ.get("MUTMUT_CRM_DIR")
    if not folder:
        return
    keep = tuple(filter(None, os.environ.get("MUTMUT_CRM_KEEP_SLOW", "").split(",")))
    slow = [item for item in items if item.get_closest_marker("slow") and not item.nodeid.startswith(keep)]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item not in slow]
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    stats = Path(folder) / "mutants" / "mutmut-stats.json"
    if "__mutmut_" not in mutant or not stats.exists():
        return
    durations = json.loads(stats.read_text(encoding="utf-8")).get("duration_by_test", {})
    items.sort(key=lambda item: durations.get(item.nodeid, 2.0))
    for item in items:
        limit = max(FLOOR, SLACK * durations.get(item.nodeid, 2.0) + 2.0)
        item.add_marker(pytest.mark.timeout(limit, method="signal"))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _stats_run():
        return
    from mutmut.state import state

    folder = Path(os.environ["MUTMUT_CRM_DIR"]) / "subprocess-hits"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        found = json.loads(path.read_text(encoding="utf-8"))
        for function in found["hits"]:
            state().tests_by_mangled_function_name[function].add(found["test"])
        path.unlink()
