"""Where the data directories that ship with the code are.

In a source checkout they sit at the top of the repository (``migrations/``,
``templates/``); in an installed wheel they are copied to ``crm/_data/`` (see
pyproject.toml). Both are looked for, installed copy first.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {name}/ directory next to {_PACKAGE}")


def migrations_dir() -> Path:
    return _find("migrations")


def templates_dir() -> Path:
    return _find("templates")
