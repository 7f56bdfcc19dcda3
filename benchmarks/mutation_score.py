"""Mutation score of the modules that decide who gets mail and what it says.

Runs mutmut (3.x) on a copy of the working tree and prints killed, survived, timed out, the
score and every surviving mutant with file:line and its diff line. The last line is one JSON
object with those figures, the target and ``met``.

    pip install .[mutation]        # mutmut, pinned
    python benchmarks/mutation_score.py [--keep] [--max-children 2] [--only crm/consent.py ...]

Why mutmut: it is maintained (3.x, 2026), and it switches mutants at run time (every mutant
of a module is compiled into one copy, a trampoline picks the active one from
``MUTANT_UNDER_TEST``), so a mutant costs a fork and the tests that reach it, not a pytest
start and a re-import; it records which tests reach each function (its "stats" run) and runs
each mutant against those tests only. cosmic-ray rewrites the file on disk and starts the test
command once per mutant (about 1.5 s of pytest start and imports each, ~2,500 mutants here);
pytest-gremlins is younger and instruments through an import hook, which our tests' ``crm``
subprocesses would not see. The mutated copy is put on ``PYTHONPATH`` so that the ``crm``
processes a test starts (CLI runs, workers) run the same mutant, and
``benchmarks/mutation_hooks/`` records which functions those processes reach, so that mutmut
also picks a test that reaches a function only through a subprocess.

Scoring: a timed-out mutant counts as detected (the test did not pass; mutmut and Stryker do
the same). Mutants listed in ``benchmarks/mutation_equivalent.toml`` (each with the diff line
it was judged on and why it changes nothing observable) are left out of the denominator; an
entry whose diff no longer matches is ignored, so a changed line is judged again. "No tests"
(no selected test reaches the function) counts as survived.

Not run in CI (it takes about half an hour on two cores); run it before closing an issue that
touches these modules and give its figures in the note.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.85
EQUIVALENT_FILE = ROOT / "benchmarks" / "mutation_equivalent.toml"
WORKDIR = ROOT / ".mutation"

# Each group: the modules mutated together and the tests written for them. mutmut runs those
# tests once, recording which test reaches which function, then runs each mutant against the
# tests of its group that reach its function, fastest first. A surviving mutant costs every
# one of them, so a group holds the tests meant for its modules, not every test that happens
# to pass through (every delivery test builds a message, but the message is judged by
# test_message.py). Left out for time: the PostgreSQL crash tests (test_db_outage.py, minutes
# each), the CLI end-to-end files, and the tests marked slow but for the Redis rate-limiter's.
DELIVERY_TESTS = [
    "tests/delivery/test_claim.py",
    "tests/delivery/test_ledger.py",
    "tests/delivery/test_ledger_lease.py",
    "tests/delivery/test_engine.py",
    "tests/delivery/test_engine_snapshot.py",
    "tests/delivery/test_delivery.py",
    "tests/delivery/test_delivery_outage.py",
    "tests/delivery/test_missed_bugs_delivery.py",
    "tests/delivery/test_ratelimit.py",
    "tests/delivery/test_sending_path.py",
]
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "delivery": (["crm/delivery/queries.py", "crm/delivery/eligibility.py", "crm/delivery/ledger.py",
                  "crm/delivery/engine.py", "crm/delivery/ratelimit.py"], DELIVERY_TESTS),
    "consent": (["crm/consent.py"], ["tests/contacts/test_consent.py", "tests/delivery/test_missed_bugs_delivery.py"]),
    "segments": (["crm/segments/compiler.py"],
                 ["tests/segments/test_segment_compiler.py", "tests/segments/test_segments.py", "tests/segments/test_segments_property.py",
                  "tests/segments/test_segment_limits.py"]),
    "imports": (["crm/csvfiles/safety.py", "crm/csvfiles/imports.py"],
                ["tests/csvfiles/test_csv_safety.py", "tests/csvfiles/test_import_service.py", "tests/csvfiles/test_import_export.py", "tests/csvfiles/test_missed_bugs_data.py",
                 "tests/csvfiles/test_export_roundtrip.py"]),
    "message": (["crm/links.py", "crm/mail/frame.py"], ["tests/mail/test_message.py", "tests/mail/test_links.py"]),
}
MODULES = [m for modules, _ in GROUPS.values() for m in modules]
KEEP_SLOW = ["tests/delivery/test_ratelimit.py"]  # slow-marked, but seconds: the only tests of the Redis limiter

LOG = "mutmut.log"


def _copy_tree(dest: Path) -> None:
    """The working tree as git sees it (tracked and untracked, not ignored) into ``dest``;
    unchanged files keep their mtime, which is how mutmut knows what it has already mutated."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src, dst = ROOT / name, dest / name
        if not src.is_file():
            continue
        if dst.exists() and dst.read_bytes() == src.read_bytes():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def _configure(dest: Path, modules: list[str], tests: list[str]) -> None:
    tests = [t for t in tests if (dest / t).exists()]
    conf = dest / "pyproject.toml"
    text = conf.read_text(encoding="utf-8").split("\n[tool.mutmut]")[0]
    text += "\n[tool.mutmut]\n" + "\n".join([
        'source_paths = ["crm/"]',
        f"only_mutate = {json.dumps(modules)}",
        # one pytest process per mutant, forked; xdist would fork again for nothing
        'pytest_add_cli_args = ["-n", "0", "-p", "no:cacheprovider", "-p", "mutation_stats_plugin"]',
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        'also_copy = ["templates/", "migrations/", "workers/", "README.md"]',
        "timeout_multiplier = 5.0",
        "timeout_constant = 10.0",
    ]) + "\n"
    conf.write_text(text, encoding="utf-8")


def _mutmut(dest: Path, *args: str, log: Path | None = None) -> str:
    hooks = dest / "benchmarks" / "mutation_hooks"  # sitecustomize and the stats plugin
    env = dict(os.environ, PYTHONPATH=f"{dest / 'mutants'}{os.pathsep}{hooks}", MUTMUT_CRM_DIR=str(dest),
               MUTMUT_CRM_KEEP_SLOW=",".join(KEEP_SLOW), CI="true", PYTHONDONTWRITEBYTECODE="1")
    exe = [sys.executable, "-m", "mutmut", *args]
    if log is None:
        return subprocess.run(exe, cwd=dest, env=env, check=True, capture_output=True, text=True).stdout
    with log.open("w") as out:
        code = subprocess.run(exe, cwd=dest, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    if code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        sys.exit(f"mutmut run failed (exit {code}); the end of {log}:\n{tail}")
    return ""


_HUNK = re.compile(r"^@@ -(\d+)")


def _where(dest: Path, name: str) -> tuple[str, int, str]:
    """File, line and new text of a mutant, read from the diff ``mutmut show`` prints."""
    path, line, change, first, old = "?", 0, "", None, ""
    for raw in _mutmut(dest, "show", name).splitlines():
        if raw.startswith(("--- ", "+++ ")):
            path = raw[4:].strip() if raw.startswith("--- ") else path
        elif m := _HUNK.match(raw):
            line = int(m.group(1))
        elif raw.startswith("-"):
            first = line if first is None else first
            old = old or raw[1:].strip()
            line += 1
        elif raw.startswith("+"):
            change = change or raw[1:].strip()
        else:
            line += 1
    return path, _def_line(dest / path, name) + (first or 1) - 1, change or f"(deleted) {old}"


def _def_line(source: Path, name: str) -> int:
    """The line of the function a mutant is in (``mutmut show`` numbers its lines from the
    function's ``def``): crm.x.x_fn__mutmut_3 or crm.x.xǁClassǁmethod__mutmut_3."""
    target = name.rsplit("__mutmut_", 1)[0].rsplit(".", 1)[-1]
    cls, _, func = target[2:].rpartition("ǁ") if target.startswith("xǁ") else ("", "", target[2:])
    cls = cls.rstrip("ǁ")
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return 1
    scopes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls] if cls else [tree]
    for scope in scopes:
        for node in scope.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == func:
                return node.lineno
    return 1


def _dotted(module: str) -> str:
    """crm/delivery/queries.py -> crm.delivery.queries.x (how mutmut names that module's mutants)."""
    return module[:-3].replace("/", ".") + ".x"


def _equivalents() -> dict[str, dict[str, str]]:
    if not EQUIVALENT_FILE.exists():
        return {}
    return tomllib.loads(EQUIVALENT_FILE.read_text(encoding="utf-8")).get("mutant", {})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true",
                        help="reuse .mutation/ from the last run (mutmut skips what it has already judged)")
    # The tests mostly wait (on a database, an SMTP server): one more child than cores keeps both busy.
    parser.add_argument("--max-children", type=int, default=(os.cpu_count() or 2) + 1)
    parser.add_argument("--only", nargs="+", metavar="MODULE", help="a subset of the modules")
    parser.add_argument("--mutants", nargs="+", metavar="NAME",
                        help="run these mutants again (with --keep, after adding a test; implies --keep)")
    parser.add_argument("--report", action="store_true",
                        help="only report what the last run in .mutation/ found (while it runs: so far)")
    args = parser.parse_args()
    if args.max_children < 1:
        parser.error(f"--max-children must be 1 or more, not {args.max_children}")
    try:
        import mutmut  # noqa: F401
    except ImportError:
        sys.exit("mutmut is not installed: pip install '.[mutation]'")
    modules = args.only or MODULES
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        sys.exit(f"--only: {', '.join(unknown)} is not one of the scored modules ({', '.join(MODULES)})")

    started = time.monotonic()
    statuses: dict[str, tuple[str, Path]] = {}
    for group, (group_modules, tests) in GROUPS.items():
        chosen = [m for m in group_modules if m in modules]
        if not chosen:
            continue
        dest = WORKDIR / group
        if not args.report:
            if not (args.keep or args.mutants) and dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True, exist_ok=True)
            _copy_tree(dest)
            _configure(dest, chosen, tests)
            # Before Python starts: a PYTHONPATH entry that does not exist yet is cached as "nothing
            # there", and the tests would then import the unmutated code from the editable install.
            (dest / "mutants").mkdir(exist_ok=True)
            print(f"{group}: mutmut on {', '.join(chosen)} with {len(tests)} test files, {args.max_children} "
                  f"children; log in {dest / LOG}", flush=True)
            named = [n for n in args.mutants or [] if any(n.startswith(_dotted(m)) for m in chosen)]
            if named or not args.mutants:
                _mutmut(dest, "run", "--max-children", str(args.max_children), *named, log=dest / LOG)
        if (dest / "mutants").exists():
            for raw in _mutmut(dest, "results", "--all", "true").splitlines():
                name, _, status = raw.strip().rpartition(": ")
                if name and any(name.startswith(_dotted(m)) for m in chosen):
                    statuses[name] = (status, dest)
    elapsed = time.monotonic() - started

    equivalent_list = _equivalents()
    counts = {"killed": 0, "survived": 0, "timeout": 0, "no tests": 0, "equivalent": 0, "other": 0, "pending": 0}
    survivors: list[tuple[str, int, str, str]] = []
    stale: list[str] = []
    for name, (status, dest) in sorted(statuses.items()):
        if status == "killed":
            counts["killed"] += 1
        elif status == "timeout":
            counts["timeout"] += 1
        elif status == "not checked":  # --report while a run goes on
            counts["pending"] += 1
        elif status in ("survived", "no tests"):
            path, line, change = _where(dest, name)
            known = equivalent_list.get(name)
            if known and known.get("change") == change:
                counts["equivalent"] += 1
                continue
            if known:
                stale.append(name)
            counts["survived" if status == "survived" else "no tests"] += 1
            survivors.append((path, line, name, change))
        else:
            counts["other"] += 1
            survivors.append(("?", 0, name, status))
    detected = counts["killed"] + counts["timeout"]
    judged = detected + counts["survived"] + counts["no tests"] + counts["other"]
    score = detected / judged if judged else 0.0

    for path, line, name, change in sorted(survivors):
        print(f"SURVIVED {path}:{line}  {name}  {change}")
    for name in stale:
        print(f"note: {name} is in {EQUIVALENT_FILE.name} but its diff changed; judge it again")
    print(f"{len(statuses)} mutants in {elapsed:.0f} s: killed {counts['killed']}, timed out {counts['timeout']}, "
          f"survived {counts['survived']}, no tests {counts['no tests']}, equivalent {counts['equivalent']}, "
          f"other {counts['other']}, not yet run {counts['pending']}; score {score:.1%} (target {TARGET:.0%})")
    print(json.dumps({
        "mutants": len(statuses), "killed": counts["killed"], "timed_out": counts["timeout"],
        "survived": counts["survived"], "no_tests": counts["no tests"], "equivalent": counts["equivalent"],
        "other": counts["other"], "not_run": counts["pending"], "score": round(score, 4), "target": TARGET, "met": score >= TARGET,
        "seconds": round(elapsed), "survivors": [f"{p}:{ln} {n}" for p, ln, n, _ in sorted(survivors)],
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
