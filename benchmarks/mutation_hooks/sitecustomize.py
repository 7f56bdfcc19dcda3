"""Loaded by every Python process that benchmarks/mutation_score.py starts (it is on
PYTHONPATH there, nowhere else): lets a ``crm`` process that a test starts (the CLI, a worker)
take part in mutation testing.

mutmut chooses the active mutant from ``MUTANT_UNDER_TEST``, which such a process inherits,
and reads its settings from ``pyproject.toml`` in the current folder, which such a process
does not have: load them from the mutation folder once. During mutmut's "stats" run (which
test reaches which function), the functions this process reached are written out at exit
with the test that started it (``PYTEST_CURRENT_TEST``); ``mutation_stats_plugin`` adds them
to mutmut's table, so a test that reaches a function only through a subprocess is run
against that function's mutants too.
"""

import os

if os.environ.get("MUTANT_UNDER_TEST") and os.environ.get("MUTMUT_CRM_DIR"):
    _here = os.getcwd()
    try:
        os.chdir(os.environ["MUTMUT_CRM_DIR"])
        from mutmut.configuration import config

        config()
    finally:
        os.chdir(_here)

    if os.environ["MUTANT_UNDER_TEST"] == "stats" and os.environ.get("PYTEST_CURRENT_TEST"):
        import atexit
        import json

        from mutmut.state import state

        def _dump() -> None:
            hits = sorted(state()._stats)
            if not hits:
                return
            folder = os.path.join(os.environ["MUTMUT_CRM_DIR"], "subprocess-hits")
            os.makedirs(folder, exist_ok=True)
            test = os.environ["PYTEST_CURRENT_TEST"].rsplit(" (", 1)[0]
            with open(os.path.join(folder, f"{os.getpid()}.json"), "w", encoding="utf-8") as out:
                json.dump({"test": test, "hits": hits}, out)

        atexit.register(_dump)
