"""Waiting out a database that went away in the middle of a send.

Once a server has answered 250, that outcome must reach the database before anything else
happens: the send path holds it and calls `retrying`, which waits with a growing pause
(capped at `MAX_PAUSE`) and reconnects until the write goes through. Nothing more is sent
meanwhile. The outage is logged once when it starts and once when it ends, not once per
attempt, whatever the number of threads that notice it.

What counts as "the database went away": a DBAPI OperationalError or InterfaceError (a
server restarting, a connection dropped, SQLite's "database is locked" after the busy
timeout) or any error SQLAlchemy marks as a dropped connection. Anything else — a bug, a
constraint — is raised at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import exc as sa

from crm.failures import first_line

log = logging.getLogger("crm.delivery")

T = TypeVar("T")
FIRST_PAUSE = 0.2  # seconds; doubled after each failed attempt
MAX_PAUSE = 3.0  # short enough to be back within seconds of the database, before leases run out


def database_away(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot be used just now (try again later): a
    SQLAlchemy error, or a DB-API driver's own (psycopg, sqlite3: the ledger's prepared
    statement runs on the driver's cursor), of PEP 249's OperationalError / InterfaceError
    classes."""
    if isinstance(error, sa.DBAPIError) and error.connection_invalidated:
        return True
    return any(cls.__name__ in _AWAY for cls in type(error).__mro__)


_AWAY = {"OperationalError", "InterfaceError"}


class _Outage:
    """Process-wide: whether an outage is being waited out, to log its start and end once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None
        self._waiting = 0

    def begin(self, error: BaseException, holding: str) -> None:
        with self._lock:
            self._waiting += 1
            if self._since is None:
                self._since = time.monotonic()
                reason = first_line(error)[:300]
                log.warning("database unreachable (%s): %s; waiting and reconnecting, nothing more is sent "
                            "until it is written", reason, holding)

    def end(self, recovered: bool) -> None:
        with self._lock:
            self._waiting -= 1
            if recovered and self._waiting == 0 and self._since is not None:
                log.warning("database back after %.1f s; held outcomes written, sending again",
                            time.monotonic() - self._since)
                self._since = None

    @property
    def active(self) -> bool:
        return self._since is not None


outage = _Outage()


def retrying(work: Callable[[], T], *, reset: Callable[[], None] = lambda: None,
             holding: str | Callable[[], str] = "",
             sleep: Callable[[float], None] = time.sleep) -> T:
    """``work()`` until it goes through; after a database error, ``reset()`` (drop the broken
    connection) and try again after a pause. Other errors are raised at once."""
    pause, waiting, done = FIRST_PAUSE, False, False
    try:
        while True:
            try:
                result = work()
                done = True
                return result
            except Exception as error:  # noqa: BLE001 - sorted just below
                if not database_away(error):
                    raise
                if not waiting:
                    said = holding() if callable(holding) else holding  # only worded when it happens
                    outage.begin(error, said or "retrying")
                    waiting = True
                reset()
                sleep(pause)
                pause = min(pause * 2, MAX_PAUSE)
    finally:
        if waiting:
            outage.end(recovered=done)


class Looking:
    """For a loop that simply looks again later (the watchdog, a broker-less worker pass):
    a database outage is logged once when it starts and once when it ends; any other
    failure is logged with its traceback each time."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._since: float | None = None

    def failed(self, error: BaseException) -> None:
        if not database_away(error):
            log.error("%s failed; trying again", self.what, exc_info=error)
            return
        if self._since is None:
            self._since = time.monotonic()
            reason = first_line(error)[:300]
            log.warning("%s: database unreachable (%s); looking again until it is back", self.what, reason)

    def succeeded(self) -> None:
        if self._since is not None:
            log.warning("%s: database back after %.1f s", self.what, time.monotonic() - self._since)
            self._since = None
