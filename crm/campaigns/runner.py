"""Running the send engine on a campaign, and acting on what it reports.

The engine (`crm.delivery.engine`) sends and records deliveries; it never changes a
campaign's status. What it reports is acted on here, through the campaigns service: work
done → `finish`; the mail server away for good → `pause`, with the reason. Every way of
sending goes through `run`: the queue's actor (workers/campaigns.py), `crm campaigns send`
without a broker (`run_to_end`), and a broker-less `crm worker` (`run_due`).

`run_to_end` sends one campaign until it has nothing more to do. A worker process keeps
retrying an unreachable mail server for as long as it runs; a command cannot: after a few
quick retries it stops, pauses the campaign with the reason (`campaigns status` shows it),
and raises `TransportUnavailable` (exit 69). Nothing is marked failed: the rows not sent are
pending, and `crm campaigns resume ID` (or `send ID`) goes on once the server is up, sending
each remaining recipient once.

`run_due` is one pass of `crm worker` without a broker: start the scheduled campaigns whose
time has come, and send a slice of every campaign that has work and nobody on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from crm.campaigns import service as campaigns
from crm.db import utcnow
from crm.delivery import queries
from crm.delivery.engine import DONE, BatchReport, Engine, follow_up_delay
from crm.delivery.outage import database_away
from crm.failures import first_line
from crm.mail.transport import TransportUnavailable
from crm.models.campaigns import CampaignStatus

log = logging.getLogger("crm.delivery")

QUICK_RETRIES = 3  # after the first failure: waits of 1, 2 and 4 s, then give up
SLICE_SECONDS = 30.0
LOOK_AGAIN_SECONDS = 2.0


def run(engine: Engine, campaign_id: int, *, max_seconds: float | None = None) -> BatchReport:
    """``engine.run``, then what its report means for the campaign (`settle`)."""
    return settle(engine.sessions, campaign_id, engine.run(campaign_id, max_seconds=max_seconds))


def settle(sessions: sessionmaker[Session], campaign_id: int, report: BatchReport) -> BatchReport:
    """The engine reported its work done: the campaign is finished (`service.finish`). A
    database that goes away meanwhile is reported as the engine reports it (`database_down`:
    look again soon, and the next run finds the work done again), so that a worker logs it
    once instead of failing."""
    if report.stopped != DONE:
        return report
    try:
        with sessions.begin() as session:
            campaigns.finish(session, campaign_id)
    except Exception as error:
        if not database_away(error):
            raise
        report.stopped, report.detail = "database_down", first_line(error)[:300]
    return report


def run_to_end(engine: Engine, campaign_id: int, *, retries: int = QUICK_RETRIES, first_wait: float = 1.0,
               sleep: Callable[[float], None] = time.sleep) -> BatchReport:
    total = BatchReport()
    try:
        while True:
            report = run(engine, campaign_id, max_seconds=SLICE_SECONDS)
            _add(total, report)
            if report.stopped == "transport_down":
                _wait_for_server(engine, campaign_id, report.detail or "the mail server cannot be reached",
                                 retries, first_wait, sleep)
                continue
            delay = follow_up_delay(report)
            if delay is None:
                return total
            # Looked at again soon, not only when the wait is over: what it waits for may be
            # another process's lease, and that process may finish the campaign well before
            # (two `send` at once: the second ended a lease later, a minute after the first).
            sleep(min(delay, LOOK_AGAIN_SECONDS))
    except TransportUnavailable:
        raise
    except BaseException as exc:  # a failure (or Ctrl-C) must not leave it `sending` with nobody on it
        _pause(engine, campaign_id, f"stopped: {str(exc) or type(exc).__name__}")
        raise


def _wait_for_server(engine: Engine, campaign_id: int, reason: str, retries: int, first_wait: float,
                     sleep: Callable[[float], None]) -> None:
    """Try to connect a few times (no row is taken meanwhile); give up with the campaign paused."""
    for attempt in range(retries):
        sleep(first_wait * 2**attempt)
        try:
            engine.transport.connect()
            return
        except TransportUnavailable as exc:
            reason = str(exc)
    left = _pause(engine, campaign_id, reason, undelay=reason)
    raise TransportUnavailable(f"{reason}. Campaign #{campaign_id} is paused with {left} message(s) still to send, "
                               f"none lost: run `crm campaigns resume {campaign_id}` once the server is up")


def _pause(engine: Engine, campaign_id: int, reason: str, *, undelay: str | None = None) -> int:
    """Pause a campaign still sending, saying why; returns how many are still to send."""
    with engine.sessions.begin() as session:
        if undelay is not None:
            queries.undelay(session, campaign_id, undelay)
        if campaigns.get(session, campaign_id).status is CampaignStatus.SENDING:
            campaigns.pause(session, campaign_id, reason=reason[:2000])
        return int(campaigns.counts(session, campaign_id)["pending"])


def _add(total: BatchReport, report: BatchReport) -> None:
    total.claimed += report.claimed
    for fate, n in report.counts.items():
        total.counts[fate] = total.counts.get(fate, 0) + n
    total.stopped, total.next_due, total.detail = report.stopped, report.next_due, report.detail


def run_due(session_factory: Callable[[], Session], engine: Engine) -> bool:
    """One pass of a broker-less `crm worker`: start due scheduled campaigns, then send a
    slice of each campaign with due work and nobody on it. An unreachable server is logged
    and tried again at the next pass (the campaign stays `sending`). True when a slice ran
    out of time with work left (look again at once)."""
    with session_factory() as session, session.begin():
        started = campaigns.start_due(session)
        stalled = queries.needing_workers(session, utcnow())
    for campaign_id in started:
        log.info("campaign #%s: its scheduled time has come, sending", campaign_id)
    more = False
    for campaign_id in stalled:
        report = run(engine, campaign_id, max_seconds=SLICE_SECONDS)
        if report.stopped == "transport_down":
            log.warning("campaign #%s: %s; trying again shortly", campaign_id, report.detail)
        more = more or report.stopped is None
    return more
