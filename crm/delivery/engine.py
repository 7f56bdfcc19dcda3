"""The send loop: claim a batch, render and send each message, record each result.

Per campaign, the templates are prepared (premailer runs) once per language; per
recipient only the Jinja2 render, the MIME build and the SMTP transaction run. The engine
depends on small interfaces: a `Transport`, a `RateLimiter` and a `Composer` (the
renderer behind it); the worker process (workers/), the CLI's in-process send and
the tests give it real ones.

The engine reads the campaign's status (it stops when the campaign is no longer sending)
but never changes it: when no delivery is left open it reports the work ``done``, and the
campaigns package, which runs the engine (`crm.campaigns.runner`), marks the campaign
finished. So delivery never imports campaigns.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm import fields
from crm.db import utcnow
from crm.delivery import queries, recipients
from crm.delivery.compose import Composer
from crm.delivery.ledger import CHECKPOINT_EVERY, Fate, Ledger, Outcome
from crm.delivery.outage import database_away
from crm.delivery.ratelimit import RateLimiter
from crm.errors import CRMError, ValidationError
from crm.failures import first_line
from crm.mail.message import message_id_for
from crm.mail.transport import SendStatus, Transport, TransportUnavailable
from crm.models.campaigns import Campaign, CampaignStatus

log = logging.getLogger("crm.delivery")

# A batch that lived through a database crash may have lost this many results: those not yet
# made durable by the ledger's checkpoint, and the message in flight.
UNRECORDED = CHECKPOINT_EVERY + 1
DATABASE_RETRY_SECONDS = 2.0  # a campaign whose database is away is looked at again this soon
DONE = "done"  # a report's `stopped` when no delivery of the campaign is left open


@dataclass
class EngineConfig:
    worker: str
    batch_size: int = 100
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 5
    retry_base_seconds: float = 60.0
    global_rate: float | None = None


@dataclass
class BatchReport:
    claimed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    # done | waiting | transport_down | database_down, or the campaign's status when it is not
    # sending (paused, cancelled, finished …); None: the time slice ran out with work left
    stopped: str | None = None
    next_due: datetime | None = None
    detail: str | None = None  # transport_down, database_down: why (the server that cannot be reached)

    def add(self, fate: str) -> None:
        self.counts[fate] = self.counts.get(fate, 0) + 1


_FATES = {
    SendStatus.SENT: Fate.SENT,
    SendStatus.TRANSIENT: Fate.RETRY,
    SendStatus.PERMANENT: Fate.FAILED,
    SendStatus.AMBIGUOUS: Fate.UNKNOWN,
}


class Engine:
    def __init__(self, sessions: sessionmaker[Session], transport: Transport, composer: Composer,
                 limiter: RateLimiter, config: EngineConfig) -> None:
        self.sessions = sessions
        self.transport = transport
        self.composer = composer
        self.limiter = limiter
        self.config = config
        self._batches = itertools.count(1)

    # -- one batch -----------------------------------------------------------------------------
    def run_batch(self, campaign_id: int) -> BatchReport:
        report = BatchReport()
        now = utcnow()
        with self.sessions.begin() as session:
            campaign = session.scalar(select(Campaign).where(Campaign.id == campaign_id))
            if campaign is None:
                raise CRMError(f"no campaign {campaign_id}")
            campaign.contents  # load them while the session is open  # noqa: B018
            if campaign.status is not CampaignStatus.SENDING:
                report.stopped = campaign.status.value
                return report
            queries.reclaim_expired(session, campaign_id, now, lease=self.config.lease, unrecorded=UNRECORDED)
            # Each batch has its own lease owner: after a crash, the lowest open row of each
            # dead batch is the one message that may have been in flight.
            owner = f"{self.config.worker}#{next(self._batches)}"
            batch = queries.claim_batch(session, campaign, worker=owner,
                                        size=self.config.batch_size, lease=self.config.lease, now=now)
            people = recipients.load(session, [c.contact_id for c in batch]) if batch else {}
            extra = self.composer.extra(session, campaign) if batch else {}
        report.claimed = len(batch)
        if not batch:
            self._look_ahead(campaign_id, report)
            return report
        ledger = Ledger(self.sessions.kw["bind"], campaign, worker=owner,
                        max_attempts=self.config.max_attempts, retry_base_seconds=self.config.retry_base_seconds)
        try:
            return self._send_batch(campaign, batch, people, extra, ledger, report)
        finally:
            # Whatever happens (the broker or the limiter's Redis going away …), the
            # outcomes already known are written: a sent message is never sent again.
            ledger.close()

    def _send_batch(self, campaign: Campaign, batch: list[queries.Claimed], people: dict[int, recipients.Recipient],
                    extra: dict[str, Any], ledger: Ledger, report: BatchReport) -> BatchReport:
        campaign_id = campaign.id
        limits = {f"campaign:{campaign.id}": campaign.rate_limit or 0, "global": self.config.global_rate or 0}
        domain = campaign.from_address.rpartition("@")[2]
        lease_renewed = time.monotonic()
        for index, row in enumerate(batch):
            if time.monotonic() - lease_renewed > self.config.lease.total_seconds() / 3:
                ledger.extend(batch[index:], self.config.lease)
                lease_renewed = time.monotonic()
            self.limiter.acquire(limits)
            if not ledger.start(row):
                state = self._campaign_status(campaign_id)
                if state is not CampaignStatus.SENDING:
                    report.stopped = state.value
                    ledger.give_back(batch[index:])
                    return report
                report.add("suppressed")
                continue
            person = people.get(row.contact_id)
            outcome = self._send_one(campaign, row, person, extra, domain)
            if outcome.fate is Fate.RELEASE:
                ledger.finish(row, outcome)
                ledger.give_back(batch[index + 1 :])
                report.stopped, report.detail = "transport_down", outcome.detail
                report.add("released")
                return report
            ledger.finish(row, outcome)
            report.add(outcome.fate.value)
        ledger.flush()
        if len(batch) < self.config.batch_size:  # a full batch: more is due, no need to count
            self._look_ahead(campaign_id, report)
        return report

    def _send_one(self, campaign: Campaign, row: queries.Claimed, person: recipients.Recipient | None,
                  extra: dict[str, Any], domain: str) -> Outcome:
        if person is None or not person.email:
            return Outcome(Fate.SUPPRESSED, "no_address")
        try:
            address = fields.stored_email(person.email)
        except ValidationError:
            return Outcome(Fate.SUPPRESSED, "invalid_address")
        language = self.composer.language_for(campaign, person.language)
        message_id = message_id_for(row.id, campaign.id, domain)
        try:
            payload = self.composer.compose(campaign, contact_id=row.contact_id, fields=person.fields, address=address,
                                            language=language, message_id=message_id, extra=extra)
        except CRMError as exc:  # a message that cannot be built fails alone
            return Outcome(Fate.FAILED, f"cannot build the message: {exc}")
        try:
            result = self.transport.send(campaign.from_address, address, payload)
        except TransportUnavailable as exc:
            return Outcome(Fate.RELEASE, str(exc))
        return Outcome(_FATES[result.status], result.detail, message_id, address, language)

    def _campaign_status(self, campaign_id: int) -> CampaignStatus:
        with self.sessions() as session:
            return session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))

    def _look_ahead(self, campaign_id: int, report: BatchReport) -> None:
        """Nothing left open: the work is done (reported, not acted on). Else, with nothing
        claimed: when to look again."""
        now = utcnow()
        with self.sessions() as session:
            open_count, next_due = queries.open_work(session, campaign_id, now)
        if open_count == 0:
            report.stopped = DONE
        elif report.claimed == 0:
            # Retries not due yet, or rows leased to another (maybe dead) worker.
            report.stopped, report.next_due = "waiting", next_due or now + timedelta(seconds=1)

    # -- a whole run ---------------------------------------------------------------------------
    def run(self, campaign_id: int, *, max_seconds: float | None = None) -> BatchReport:
        """Batches until the campaign has nothing due (or is paused, or time is up)."""
        total = BatchReport()
        started = time.monotonic()
        while True:
            try:
                report = self.run_batch(campaign_id)
            except Exception as error:
                if not database_away(error):
                    raise
                # Nothing is held here: a batch's outcomes are written (waiting for the
                # database) before `run_batch` lets any error out.
                report = BatchReport(stopped="database_down", detail=first_line(error)[:300])
            total.claimed += report.claimed
            for fate, n in report.counts.items():
                total.counts[fate] = total.counts.get(fate, 0) + n
            if report.stopped or (max_seconds is not None and time.monotonic() - started > max_seconds):
                total.stopped, total.next_due, total.detail = report.stopped, report.next_due, report.detail
                return total


def follow_up_delay(report: BatchReport, now: datetime | None = None) -> float | None:
    """After a slice: seconds until the campaign should be looked at again, or None when
    there is nothing more to do (done, paused, cancelled …)."""
    if report.stopped is None:  # the time slice ran out with work left
        return 0.0
    if report.stopped == "waiting" and report.next_due is not None:
        return max((report.next_due - (now or utcnow())).total_seconds(), 0.5)
    if report.stopped == "transport_down":
        return 15.0
    if report.stopped == "database_down":
        return DATABASE_RETRY_SECONDS
    return None
