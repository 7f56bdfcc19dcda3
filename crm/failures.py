"""Library exceptions that reach a way in, told as domain errors.

Services raise `crm.errors` exceptions for what they foresee. What they cannot foresee —
a database server that went away, a file that is a directory, a broker that refuses the
connection — arrives as the library's own exception; `translate` turns it into the
`CRMError` of the right kind, so the CLI (and later the web) answer with one line and the
right exit code or status instead of a traceback. It never imports the libraries it
recognises (dramatiq, redis, pika): a service module must not depend on them.
"""

from __future__ import annotations

import errno
import re

from crm.errors import (
    ConfigError,
    Conflict,
    CRMError,
    NotFound,
    ServiceUnavailable,
    TemporaryFailure,
    ValidationError,
)

_UNREACHABLE = re.compile(
    r"connection refused|could not connect|could not translate host|name or service not known|"
    r"timeout expired|timed out|connection reset|server closed the connection|no route to host|"
    r"network is unreachable|terminating connection|connection is closed|the database system is",
    re.I,
)
_BUSY = re.compile(r"database is locked|deadlock detected|could not serialize|lock timeout|"
                   r"canceling statement due to lock", re.I)
_CREDENTIALS = re.compile(r"(//[^/:@]*:)[^@/]*@")


def hide_password(text: str) -> str:
    """``text`` with the password of any URL in it replaced by ***, to quote in a message."""
    return _CREDENTIALS.sub(r"\1***@", text)


def first_line(exc: BaseException) -> str:
    """The first line of what the error (or the driver's error under it) says, no password."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return hide_password(text.splitlines()[0] if text else type(exc).__name__)


def _database(exc: BaseException) -> CRMError | None:
    from sqlalchemy import exc as sa

    if not isinstance(exc, sa.SQLAlchemyError):
        return None
    reason = first_line(exc)
    if isinstance(exc, sa.OperationalError):
        if "unable to open database file" in reason:
            return ConfigError("cannot open the SQLite file: its folder does not exist or cannot be written "
                               "(point it at a writable path)", "CRM_DATABASE_URL")
        if _BUSY.search(reason):
            return TemporaryFailure(f"the database is busy ({reason}); run the command again")
        if _UNREACHABLE.search(reason):
            return ServiceUnavailable(f"cannot reach the database ({reason}): start it or check CRM_DATABASE_URL")
        if "password authentication failed" in reason or ("role" in reason and "does not exist" in reason):
            return ConfigError(f"the database refused the login ({reason})", "CRM_DATABASE_URL")
        if "database" in reason and "does not exist" in reason:
            return ConfigError(f"{reason}: create it (createdb) or fix the name", "CRM_DATABASE_URL")
    if isinstance(exc, sa.DatabaseError) and "file is not a database" in reason:
        return ConfigError("the file is not a SQLite database: point it at the CRM's database file, "
                           "or at a new path to start one", "CRM_DATABASE_URL")
    if isinstance(exc, sa.IntegrityError):
        return Conflict(f"the database refused the change ({reason})")
    if isinstance(exc, sa.DataError):
        return ValidationError(f"the database refused a value ({reason})")
    return None


def _files(exc: BaseException) -> CRMError | None:
    if isinstance(exc, FileNotFoundError):
        return NotFound(f"{exc.filename}: no such file")
    if isinstance(exc, IsADirectoryError):
        return NotFound(f"{exc.filename}: is a folder, not a file")
    if isinstance(exc, NotADirectoryError):
        return NotFound(f"{exc.filename}: a part of this path is not a folder")
    if isinstance(exc, PermissionError):
        return NotFound(f"{exc.filename}: permission denied")
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = exc.filename or "the output"
        return TemporaryFailure(f"{where}: no space left on the device: make room and run the command again")
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return NotFound(f"{exc.filename}: read-only file system: write somewhere else")
    return None


def _services(exc: BaseException) -> CRMError | None:
    """Broker and network client errors, recognised by name (see the module docstring)."""
    module = type(exc).__module__ or ""
    name = type(exc).__name__
    if module.startswith(("redis", "pika", "dramatiq", "kombu", "amqp")) and (
            "Connection" in name or "Timeout" in name or "Unreachable" in name):
        return ServiceUnavailable(f"cannot reach the broker ({first_line(exc)}): start it or check CRM_BROKER_URL")
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return ServiceUnavailable(f"a server cannot be reached ({first_line(exc)})")
    return None


def translate(exc: BaseException) -> CRMError | None:
    """The domain error ``exc`` stands for, or None when it is not one we recognise."""
    if isinstance(exc, CRMError):
        return exc
    for rule in (_database, _files, _services):
        found = rule(exc)
        if found is not None:
            return found
    return None
