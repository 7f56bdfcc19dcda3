"""pytest plugin for benchmarks/mutation_score.py: at the end of mutmut's stats run, add the
functions that ``crm`` subprocesses reached (see ``sitecustomize``) to the tests that started
them. Does nothing outside that run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if os.environ.get("MUTANT_UNDER_TEST") != "stats" or not os.environ.get("MUTMUT_CRM_DIR"):
        return
    from mutmut.state import state

    folder = Path(os.environ["MUTMUT_CRM_DIR"]) / "subprocess-hits"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        found = json.loads(path.read_text(encoding="utf-8"))
        for function in found["hits"]:
            state().tests_by_mangled_function_name[function].add(found["test"])
        path.unlink()
