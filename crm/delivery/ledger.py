"""Recording each message's fate, one short transaction per message.

`start` records the outcome of the previous message, then marks the row `sending` — only
if it is still claimed by this worker, the campaign is still sending, and the contact is
still eligible. So a message is marked sent only after the server's
250, and at any moment a worker has at most one row in `sending`: the message in flight.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, text, update
from sqlalchemy.engine import Connection, Engine

from crm.db import utcnow
from crm.delivery import eligibility
from crm.delivery.claim import Claimed
from crm.models.campaigns import Campaign, CampaignStatus
from crm.models.deliveries import Delivery, DeliveryStatus as D

_T = Delivery.__table__


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


def _mark_sent(id_param: str) -> Any:
    """UPDATE: the row ``id_param`` (ours, in flight) got its 250."""
    return (
        update(_T)
        .where(_T.c.id == bindparam(id_param), _T.c.lease_owner == bindparam("owner"), _T.c.status == D.SENDING)
        .values(status=D.SENT, sent_at=bindparam("at"), message_id=bindparam("mid"), address=bindparam("addr"),
                language=bindparam("lang"), last_error=None, lease_owner=None, lease_expires_at=None)
    )


class Ledger:
    """Per-message bookkeeping on one connection in autocommit mode: each statement is its
    own short transaction (two round trips a message), with prebuilt statements."""

    def __init__(
        self,
        engine: Engine,
        campaign: Campaign,
        *,
        worker: str,
        lease: timedelta,
        max_attempts: int,
        retry_base_seconds: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.campaign = campaign
        self.worker = worker
        self.lease = lease
        self.max_attempts = max_attempts
        self.retry_base = retry_base_seconds
        self.clock = clock
        self._outcomes: list[tuple[Claimed, Outcome]] = []
        self._conn: Connection | None = None
        still_sending = exists().where(Campaign.id == campaign.id, Campaign.status == CampaignStatus.SENDING)
        ours = (_T.c.id == bindparam("row_id"), _T.c.status == D.CLAIMED, _T.c.lease_owner == bindparam("owner"))
        # Built once per batch: building the eligibility subqueries costs more than running them.
        self._start = (
            update(_T)
            .where(*ours, still_sending, eligibility.eligible(campaign, _T.c.contact_id))
            .values(status=D.SENDING, attempts=_T.c.attempts + 1, lease_expires_at=bindparam("until"))
            .returning(_T.c.id)
        )
        why = eligibility.reason(campaign, _T.c.contact_id)
        self._suppress = (
            update(_T).where(*ours, why.is_not(None), still_sending)
            .values(status=D.SUPPRESSED, suppression_reason=why, lease_owner=None, lease_expires_at=None)
        )
        self._sent = _mark_sent("row_id")
        # PostgreSQL: one statement records the previous message as sent and starts this one
        # (a data-modifying WITH runs whether or not it is read), compiled once and run as a
        # prepared statement on the DBAPI cursor, skipping SQLAlchemy's per-call work.
        self._sent_then_start: tuple[str, Any] | None = None
        if engine.dialect.name == "postgresql":
            combined = self._start.add_cte(_mark_sent("prev_id").returning(_T.c.id).cte("recorded"))
            compiled = combined.compile(dialect=engine.dialect)
            self._sent_then_start = (str(compiled), compiled)

    def _run_combined(self, conn: Connection, params: dict[str, Any]) -> Any:
        assert self._sent_then_start is not None
        sql, compiled = self._sent_then_start
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, compiled.construct_params(params), prepare=True)
            return cursor.fetchone()
        finally:
            cursor.close()

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if self.engine.dialect.name == "postgresql":
                # Do not wait for the WAL flush on these many small commits. A killed *worker*
                # loses nothing by it (the server has the commit); only a crash of the database
                # server itself could forget the last milliseconds of results, whose rows are
                # then resent as `resent_after_crash`: the same bound as a killed worker.
                self._conn.execute(text("SET synchronous_commit TO OFF"))
        return self._conn

    def close(self) -> None:
        self.flush()
        if self._conn is not None:
            if self.engine.dialect.name == "postgresql":
                self._conn.execute(text("RESET synchronous_commit"))
            self._conn.close()
            self._conn = None

    def start(self, row: Claimed) -> bool:
        """Record what is pending, then mark ``row`` sending; False when it must not be sent."""
        now = self.clock()
        conn = self._connection()
        params = {"row_id": row.id, "owner": self.worker, "until": now + self.lease}
        previous = self._outcomes[0] if len(self._outcomes) == 1 else None
        if previous is not None and previous[1].fate is Fate.SENT and self._sent_then_start is not None:
            sent_row, outcome = self._outcomes.pop()
            params |= {"prev_id": sent_row.id, "at": now, "mid": outcome.message_id, "addr": outcome.address,
                       "lang": outcome.language}
            started = self._run_combined(conn, params)
        else:
            self._record(conn, now)
            started = conn.execute(self._start, params).first()
        if started is None:  # unsubscribed, bounced … since the claim: never sent
            conn.execute(self._suppress, {"row_id": row.id, "owner": self.worker})
        return started is not None

    def finish(self, row: Claimed, outcome: Outcome) -> None:
        """Remember the outcome; it is written with the next `start` or `flush`."""
        self._outcomes.append((row, outcome))

    def flush(self) -> None:
        if self._outcomes:
            self._record(self._connection(), self.clock())

    def _record(self, conn: Connection, now: datetime) -> None:
        for row, outcome in self._outcomes:
            if outcome.fate is Fate.SENT:
                conn.execute(self._sent, {"row_id": row.id, "owner": self.worker, "at": now, "mid": outcome.message_id,
                                          "addr": outcome.address, "lang": outcome.language})
                continue
            attempt = row.attempts + 1
            values: dict[str, object] = {"lease_owner": None, "lease_expires_at": None}
            if outcome.fate is Fate.RETRY and attempt < self.max_attempts:
                values.update(status=D.PENDING, last_error=outcome.detail,
                              next_attempt_at=now + backoff(attempt, self.retry_base))
            elif outcome.fate in (Fate.RETRY, Fate.FAILED):
                values.update(status=D.FAILED, last_error=outcome.detail)
            elif outcome.fate is Fate.UNKNOWN:
                values.update(status=D.UNKNOWN, last_error=outcome.detail, message_id=outcome.message_id,
                              address=outcome.address, language=outcome.language)
            elif outcome.fate is Fate.SUPPRESSED:
                values.update(status=D.SUPPRESSED, suppression_reason=outcome.detail)
            else:  # RELEASE
                values.update(status=D.PENDING, attempts=_T.c.attempts - 1, last_error=outcome.detail,
                              next_attempt_at=now + timedelta(seconds=self.retry_base))
            conn.execute(
                update(_T).where(_T.c.id == row.id, _T.c.lease_owner == self.worker, _T.c.status == D.SENDING).values(**values)
            )
        self._outcomes.clear()
