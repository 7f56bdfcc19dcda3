"""Recording each message's fate: one short statement per message, in autocommit mode.

A batch's rows are sent in id order and each stays `claimed` until its result is written,
so at any moment the lowest `claimed` row of a batch is the one message that may be in
flight (`queries.reclaim_expired` relies on it after a crash). `start` writes the previous
message's result and checks that the next row may still go — still this batch's, the
campaign still sending, the contact still eligible — in one statement on PostgreSQL: one
round trip and one row update per message. A message is marked sent only after the
server's 250.

PostgreSQL commits these statements asynchronously (no wait for the disk on each one); every
`CHECKPOINT_EVERY` outcomes, and at the end of a batch, one synchronous commit makes all of
them durable. Until then the ledger keeps them in memory. If the database goes away — a
dropped connection, a restart, a crash that forgets the last asynchronous commits, SQLite
locked past its busy timeout — nothing more is sent (`crm.delivery.outage.retrying` waits
and reconnects), and when it answers again every outcome not known durable is written
first, before anything else. Those writes are lenient: a 250 or an unknown outcome is
recorded even if the lease ran out meanwhile and the row went back to the queue, so nobody
sends it again; and a row that another worker took back and sent in between is marked
`resent_after_crash`, so the status tells the truth. The bound: if a worker dies *and* the
database crashed while it held outcomes, at most `CHECKPOINT_EVERY` of its recipients may be
sent again without that mark.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from crm.db import utcnow
from crm.delivery import queries
from crm.delivery.outage import retrying
from crm.delivery.queries import Claimed
from crm.models.campaigns import Campaign
from crm.models.deliveries import DeliveryStatus as D


class Fate(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"  # 4xx: again later, with backoff, until the attempts run out
    FAILED = "failed"  # 5xx, or a message that cannot be built
    UNKNOWN = "unknown"  # connection lost after DATA
    SUPPRESSED = "suppressed"  # e.g. an address that is no longer valid
    RELEASE = "release"  # not attempted after all (server unreachable): no attempt counted


@dataclass(frozen=True)
class Outcome:
    fate: Fate
    detail: str | None = None
    message_id: str | None = None
    address: str | None = None
    language: str | None = None


def backoff(attempt: int, base: float) -> timedelta:
    """1, 2, 4, 8 … times ``base`` seconds, capped at six hours."""
    return timedelta(seconds=min(base * 2 ** max(attempt - 1, 0), 6 * 3600))


CHECKPOINT_EVERY = 32  # outcomes committed asynchronously between two synchronous commits (8: -20 % msg/s)


class Ledger:
    """Per-message bookkeeping on one connection in autocommit mode (each statement is its
    own short transaction), with statements built once per batch. ``worker`` is the batch's
    lease owner."""

    def __init__(
        self,
        engine: Engine,
        campaign: Campaign,
        *,
        worker: str,
        max_attempts: int,
        retry_base_seconds: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.campaign = campaign
        self.worker = worker
        self.max_attempts = max_attempts
        self.retry_base = retry_base_seconds
        self.clock = clock
        self._outcomes: list[tuple[Claimed, Outcome, datetime]] = []  # with the time of the answer
        self._unsynced: list[tuple[Claimed, Outcome, datetime]] = []  # written, not yet known durable
        self._after_outage = False  # set when the connection broke: write what is held, leniently
        self._conn: Connection | None = None
        # Built once per batch: building the eligibility subqueries costs more than running them.
        self._may_send = queries.may_send(campaign)
        self._suppress = queries.suppress_ineligible(campaign)
        self._sent = queries.mark_sent("row_id")
        self._sent_after_outage = queries.mark_sent("row_id", after_outage=True)
        self._sent_twice = queries.sent_twice()
        # PostgreSQL: one statement records the previous message as sent and checks this one.
        self._sent_then_check: tuple[str, Any] | None = None
        if engine.dialect.name == "postgresql":
            self._sent_then_check = queries.sent_then_may_send(self._may_send, engine.dialect)
        self._cursor: Any = None

    def _run_combined(self, conn: Connection, params: dict[str, Any]) -> Any:
        assert self._sent_then_check is not None
        sql, constants = self._sent_then_check
        if self._cursor is None:  # one DBAPI cursor for the batch
            self._cursor = conn.connection.dbapi_connection.cursor()
        self._cursor.execute(sql, constants | params, prepare=True)
        return self._cursor.fetchone()

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if self.engine.dialect.name == "postgresql":
                # No wait for the disk on each of these small commits: `_checkpoint` makes
                # them durable in groups, and the outcomes are kept until it has.
                self._conn.execute(text("SET synchronous_commit TO OFF"))
        return self._conn

    def _written(self, outcomes: list[tuple[Claimed, Outcome, datetime]]) -> None:
        """``outcomes`` went through: keep them until a synchronous commit (PostgreSQL)."""
        if self.engine.dialect.name == "postgresql":
            self._unsynced.extend(outcomes)
            if len(self._unsynced) >= CHECKPOINT_EVERY:
                self._checkpoint()

    def _settle(self) -> None:
        """Everything written and durable (after a broken connection: written again first)."""
        if self._after_outage:
            self._record(self._connection())
        else:
            self._checkpoint()

    def _checkpoint(self) -> None:
        if self._unsynced and self.engine.dialect.name != "postgresql":  # SQLite commits are durable
            self._unsynced.clear()
        if self._unsynced:
            self._connection().exec_driver_sql(queries.CHECKPOINT.format(row_id=self._unsynced[-1][0].id))
            self._unsynced.clear()

    def _drop(self) -> None:
        """Forget a broken connection (the next statement opens a new one)."""
        self._after_outage = True
        cursor, conn, self._cursor, self._conn = self._cursor, self._conn, None, None
        for closing in (getattr(cursor, "close", None), getattr(conn, "invalidate", None)):
            try:
                if closing is not None:
                    closing()
            except Exception:  # noqa: BLE001, S110 - it is broken already
                pass

    def _holding(self) -> str:
        held = len(self._outcomes) + len(self._unsynced)
        return f"{held} outcome(s) held by {self.worker}" if held else f"{self.worker} holds no outcome"

    def close(self) -> None:
        self.flush()
        retrying(self._settle, reset=self._drop, holding=self._holding)
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def start(self, row: Claimed) -> bool:
        """Record what is pending, then check ``row`` may go; False when it must not be sent
        (it is then suppressed with its reason, or it is no longer this batch's). Waits for
        a database that went away (see the module docstring)."""
        return retrying(lambda: self._start(row), reset=self._drop, holding=self._holding)

    def _start(self, row: Claimed) -> bool:
        conn = self._connection()
        params = {"row_id": row.id, "owner": self.worker}
        previous = self._outcomes[0] if len(self._outcomes) == 1 else None
        if (previous is not None and previous[1].fate is Fate.SENT and self._sent_then_check is not None
                and not self._after_outage):
            sent_row, outcome, at = previous
            params |= {"prev_id": sent_row.id, "at": at, "mid": outcome.message_id, "addr": outcome.address,
                       "lang": outcome.language}
            may = self._run_combined(conn, params)
            self._written(self._outcomes)  # only once the statement went through
            self._outcomes = []
        else:
            self._record(conn)
            may = conn.execute(self._may_send, params).first()
        if may is None:  # unsubscribed, bounced … since the materialisation: never sent
            conn.execute(self._suppress, params)
        return may is not None

    def finish(self, row: Claimed, outcome: Outcome) -> None:
        """Remember the outcome (and when it came); it is written with the next `start` or
        `flush`."""
        self._outcomes.append((row, outcome, self.clock()))

    def flush(self) -> None:
        if self._outcomes or self._after_outage:
            retrying(lambda: self._record(self._connection()), reset=self._drop, holding=self._holding)

    def extend(self, rows: list[Claimed], lease: timedelta) -> None:
        """Push the lease of ``rows`` (this batch's, not done yet) to now + ``lease``, so that
        no other worker takes them while this batch is still on its way to them."""
        ids = [r.id for r in rows]
        retrying(lambda: queries.extend_lease(self._connection(), self.worker, ids, self.clock() + lease),
                 reset=self._drop, holding=f"{self.worker} extends the lease of {len(ids)} row(s)")

    def give_back(self, rows: list[Claimed]) -> None:
        """Write what is held, then put ``rows`` (claimed, never tried) back in the queue for
        any worker: the campaign was paused or cancelled, or the server went away."""
        self.flush()
        ids = [r.id for r in rows]
        retrying(lambda: queries.release(self._connection(), self.worker, ids),
                 reset=self._drop, holding=f"{self.worker} gives back {len(ids)} unsent row(s)")

    def _record(self, conn: Connection) -> None:
        """Write every held outcome; each statement is idempotent, so after a broken
        connection the whole list — with those not yet known durable — is written again."""
        lenient = self._after_outage
        for row, outcome, now in (self._unsynced + self._outcomes) if lenient else self._outcomes:
            if outcome.fate is Fate.SENT:
                params = {"row_id": row.id, "owner": self.worker, "at": now, "mid": outcome.message_id,
                          "addr": outcome.address, "lang": outcome.language}
                if lenient:
                    conn.execute(self._sent_twice, params)
                conn.execute(self._sent_after_outage if lenient else self._sent, params)
                continue
            attempt = row.attempts + 1
            values: dict[str, object] = {"lease_owner": None, "lease_expires_at": None}
            if outcome.fate is Fate.RETRY and attempt < self.max_attempts:
                values.update(status=D.PENDING, attempts=attempt, last_error=outcome.detail,
                              next_attempt_at=now + backoff(attempt, self.retry_base))
            elif outcome.fate in (Fate.RETRY, Fate.FAILED):
                values.update(status=D.FAILED, attempts=attempt, last_error=outcome.detail)
            elif outcome.fate is Fate.UNKNOWN:
                values.update(status=D.UNKNOWN, attempts=attempt, last_error=outcome.detail, message_id=outcome.message_id,
                              address=outcome.address, language=outcome.language)
            elif outcome.fate is Fate.SUPPRESSED:  # nothing reached the server: no attempt
                values.update(status=D.SUPPRESSED, suppression_reason=outcome.detail)
            else:  # RELEASE: not attempted after all (server unreachable)
                values.update(status=D.PENDING, last_error=outcome.detail,
                              next_attempt_at=now + timedelta(seconds=self.retry_base))
            unknown = outcome.fate is Fate.UNKNOWN
            conn.execute(queries.write_outcome(row.id, values, owner=None if unknown and lenient else self.worker,
                                               heard_back=unknown))
        if lenient:  # what an outage may have lost is written again: make it durable now
            self._unsynced.extend(self._outcomes)
            self._checkpoint()
        else:
            self._written(self._outcomes)
        self._outcomes = []
        self._after_outage = False
