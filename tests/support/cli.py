"""The real `crm` entry point, run in a subprocess with a clean CRM_* environment."""

from __future__ import annotations

import json as _json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class CrmResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return _json.loads(self.out)


class CrmRunner:
    """Runs the installed `crm` console script in a folder, with a clean CRM_* environment."""

    def __init__(self, cwd: Path, database_url: str | None = None) -> None:
        exe = shutil.which("crm")
        if exe is None:
            pytest.fail("the `crm` console script is not installed: pip install .[test]")
        self.exe = exe
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        self.env["COLUMNS"] = "200"
        if database_url:
            self.env["CRM_DATABASE_URL"] = database_url

    def __call__(self, *args: str, ok: bool = True, stdin: str | None = None, timeout: float = 120) -> CrmResult:
        proc = subprocess.run(
            [self.exe, *args], cwd=self.cwd, env=self.env, input=stdin,
            capture_output=True, text=True, timeout=timeout,
        )
        result = CrmResult(proc.returncode, proc.stdout, proc.stderr)
        if ok and result.code != 0:
            raise AssertionError(f"crm {' '.join(args)} exited {result.code}: {result.err or result.out}")
        return result
