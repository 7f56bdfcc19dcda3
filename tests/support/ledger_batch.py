"""A batch for the ledger's tests: a campaign materialised and claimed the way the engine does
it, a ledger on its rows with a fixed clock, and an outage on demand (a terminated PostgreSQL
backend, or another SQLite connection holding the write lock past the ledger's busy timeout).
`module_store` gives a test module one database per backend for all its tests: each batch
has contacts of its own domain, so tests do not see each other's rows."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import Engine

from crm.db import insert_rows, make_engine, utcnow
from crm.delivery import queries
from crm.delivery.queries import Claimed
from crm.delivery.ledger import Fate, Ledger, Outcome
from crm.models import ConsentAction, ConsentEvent, ConsentSource, ConsentTopic
from crm.models.campaigns import Campaign
from crm.models.deliveries import Delivery
from crm.models.deliveries import DeliveryStatus as D
from crm.store import Store
from tests.support import delivery as h

WORKER = "ledger#1"
OTHER = "other#2"
AT = utcnow().replace(microsecond=0) - timedelta(minutes=5)  # what the ledger's clock says


def module_store(backend: str, databases: Any) -> Iterator[Store]:
    """For a module-scoped `store` fixture: one migrated database of ``backend``."""
    made = h.open_store(databases.url(backend))
    yield made
    made.engine.dispose()


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


class Batch:
    """A campaign to ``n`` fresh contacts of their own domain, sending, its rows claimed by
    WORKER (with ``attempts`` and ``last_error`` set first, as after earlier 4xx), and a
    ledger for them. ``own_engine``: the ledger gets an engine of its own (SQLite: with a
    short busy timeout, for an outage)."""

    def __init__(self, store: Store, n: int, *, attempts: int = 0, last_error: str | None = None,
                 max_attempts: int = 3, retry_base: float = 10.0, own_engine: bool = False) -> None:
        self.store = store
        domain = f"l{uuid.uuid4().hex[:10]}.example.org"
        self.contacts = h.add_contacts(store, n, domain=domain)
        self.campaign_id = h.newsletter(store, segment=f"email_domain = {domain}")
        h.start(store, self.campaign_id)
        with store.transaction() as session:
            session.execute(update(Delivery).where(Delivery.campaign_id == self.campaign_id)
                            .values(attempts=attempts, last_error=last_error))
            campaign = session.get(Campaign, self.campaign_id)
            self.rows = queries.claim_batch(session, campaign, worker=WORKER, size=n, lease=timedelta(seconds=30),
                                          now=utcnow())
            session.expunge(campaign)
        assert len(self.rows) == n
        self.engine = make_engine(_url(store.engine), busy_timeout=0.05) if own_engine else store.engine
        self.ledger = Ledger(self.engine, campaign, worker=WORKER, max_attempts=max_attempts,
                             retry_base_seconds=retry_base, clock=lambda: AT)

    def row(self, claimed: Claimed) -> dict[str, Any]:
        with self.store.engine.connect() as conn:
            return dict(conn.execute(select(Delivery.__table__).where(Delivery.id == claimed.id)).mappings().one())

    def set(self, claimed: Claimed, **values: Any) -> None:
        with self.store.transaction() as session:
            session.execute(update(Delivery).where(Delivery.id == claimed.id).values(**values))

    def opt_out(self, claimed: Claimed, action: ConsentAction = ConsentAction.OPT_OUT) -> None:
        with self.store.transaction() as session:
            insert_rows(session, ConsentEvent, [{
                "contact_id": claimed.contact_id, "topic": ConsentTopic.NEWSLETTER, "action": action,
                "source": ConsentSource.FORM, "at": utcnow(), "proof": "test"}])

    def outage(self, *, refusing: float = 0.0) -> None:
        """The database goes away under the ledger: PostgreSQL terminates its backend (and
        refuses new connections for ``refusing`` seconds, as while it restarts); SQLite is
        locked by another connection for longer than the busy timeout (then let go)."""
        if self.engine.dialect.name == "postgresql":
            self.away = "terminating connection due to administrator command"
            pid = self.ledger._connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            name = self.store.engine.url.database
            admin = create_engine(self.store.engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")

            def allow(yes: bool) -> None:
                with admin.connect() as conn:
                    conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(yes).lower()}'))
                if yes:
                    admin.dispose()

            with self.store.engine.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})  # waits until it is gone
            if refusing:  # the ledger notices at its next statement, not before
                allow(False)
                threading.Timer(refusing, allow, (True,)).start()
            return
        assert self.engine is not self.store.engine, "a SQLite outage needs Batch(own_engine=True)"
        self.away = "database is locked"
        locker = sqlite3.connect(self.engine.url.database, check_same_thread=False, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        threading.Timer(0.3, lambda: (locker.execute("COMMIT"), locker.close())).start()

    def close(self) -> None:
        self.ledger.close()
        if self.engine is not self.store.engine:
            self.engine.dispose()


def sent(row: Claimed, n: int = 0) -> Outcome:
    return Outcome(Fate.SENT, "250 ok", f"<m{row.id}.{n}@cluster>", f"r{row.id}@example.org", "fr")


def assert_sent(after: dict[str, Any], row: Claimed, *, attempts: int = 1, resent: bool = False) -> None:
    outcome = sent(row)
    assert (after["status"], after["sent_at"], after["message_id"], after["address"], after["language"]) == (
        D.SENT, AT, outcome.message_id, outcome.address, outcome.language)
    assert (after["attempts"], after["last_error"], after["lease_owner"], after["lease_expires_at"]) == (
        attempts, None, None, None)
    assert after["resent_after_crash"] is resent
