"""What the send engine's report means for a campaign (`crm.campaigns.runner`) and who may
finish a campaign (`service.finish`): the engine reports its work done, the campaigns
service changes the status. Real databases (SQLite and PostgreSQL) and the .eml outbox."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from crm.campaigns import runner, service
from crm.db import make_engine, make_session_factory, utcnow
from crm.delivery.engine import BatchReport, follow_up_delay
from crm.mail.outbox import OutboxTransport
from crm.models.campaigns import Campaign
from crm.models.deliveries import Delivery, DeliveryStatus
from tests.support import delivery as h


def _campaign(store, count: int) -> int:  # noqa: ANN001
    h.add_contacts(store, count, languages=("fr",))
    campaign_id = h.newsletter(store, languages=("fr",))
    h.start(store, campaign_id)
    return campaign_id


def _state(store, campaign_id: int) -> tuple[str, object]:  # noqa: ANN001
    with store.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        return campaign.status.value, campaign.finished_at


def test_a_run_whose_work_is_done_finishes_the_campaign_once(store, tmp_path: Path) -> None:  # noqa: ANN001
    campaign_id = _campaign(store, 3)
    engine = h.engine(store, OutboxTransport(tmp_path), batch_size=3)
    before = utcnow()
    report = runner.run(engine, campaign_id)
    assert report == BatchReport(claimed=3, counts={"sent": 3}, stopped="done")
    status, finished_at = _state(store, campaign_id)
    assert status == "finished" and before <= finished_at <= utcnow()
    # Again: the engine finds the campaign finished and leaves it so.
    assert runner.run(engine, campaign_id) == BatchReport(stopped="finished")
    assert _state(store, campaign_id) == ("finished", finished_at)
    assert len(list(tmp_path.glob("*.eml"))) == 3


def test_a_run_with_work_left_does_not_finish(store, tmp_path: Path) -> None:  # noqa: ANN001
    campaign_id = _campaign(store, 4)
    engine = h.engine(store, OutboxTransport(tmp_path), batch_size=2)
    assert runner.run(engine, campaign_id, max_seconds=0) == BatchReport(claimed=2, counts={"sent": 2}, stopped=None)
    assert _state(store, campaign_id) == ("sending", None)
    with store.transaction() as session:  # a retry not due yet: open, nothing to claim
        row = session.scalars(select(Delivery.id).where(Delivery.campaign_id == campaign_id,
                                                        Delivery.status == DeliveryStatus.PENDING)).first()
        session.execute(update(Delivery).where(Delivery.id == row).values(next_attempt_at=utcnow() + timedelta(hours=1)))
    report = runner.run(engine, campaign_id)
    assert (report.counts, report.stopped) == ({"sent": 1}, "waiting")
    assert _state(store, campaign_id) == ("sending", None)


def test_finish_needs_a_sending_campaign_with_nothing_open(store, tmp_path: Path) -> None:  # noqa: ANN001
    campaign_id = _campaign(store, 2)
    with store.transaction() as session:
        assert service.finish(session, campaign_id) is False  # two rows still pending
    assert _state(store, campaign_id) == ("sending", None)
    engine = h.engine(store, OutboxTransport(tmp_path))
    with store.transaction() as session:
        service.pause(session, campaign_id)
    with store.transaction() as session:  # its rows done meanwhile (a batch that was in flight)
        session.execute(update(Delivery).where(Delivery.campaign_id == campaign_id).values(status=DeliveryStatus.SENT))
    with store.transaction() as session:
        assert service.finish(session, campaign_id) is False  # paused: left paused
    assert _state(store, campaign_id) == ("paused", None)
    with store.transaction() as session:
        service.resume(session, campaign_id)
    assert runner.run(engine, campaign_id).stopped == "done"  # resumed: finished at its next run
    assert _state(store, campaign_id)[0] == "finished"
    with store.transaction() as session:
        assert service.finish(session, campaign_id) is False  # already finished: nothing changes
    cancelled = h.newsletter(store, languages=("fr",))  # to the same two contacts
    h.start(store, cancelled)
    with store.transaction() as session:
        service.cancel(session, cancelled)
    with store.transaction() as session:
        assert service.finish(session, cancelled) is False
    assert _state(store, cancelled)[0] == "cancelled"


@pytest.mark.parametrize("stopped", [None, "waiting", "paused", "transport_down"])
def test_only_a_report_of_work_done_finishes(store, stopped: str | None) -> None:  # noqa: ANN001
    campaign_id = _campaign(store, 1)
    with store.transaction() as session:
        session.execute(update(Delivery).where(Delivery.campaign_id == campaign_id).values(status=DeliveryStatus.SENT))
    report = BatchReport(stopped=stopped)
    assert runner.settle(store.sessions, campaign_id, report) is report and report.stopped == stopped
    assert _state(store, campaign_id) == ("sending", None)
    assert runner.settle(store.sessions, campaign_id, BatchReport(stopped="done")).stopped == "done"
    assert _state(store, campaign_id)[0] == "finished"


def test_the_database_away_when_finishing_is_reported_like_the_engine_reports_it() -> None:
    db = make_engine("postgresql+psycopg://postgres@nowhere.invalid:5432/none?connect_timeout=2")
    sessions = make_session_factory(db)
    report = runner.settle(sessions, 1, BatchReport(claimed=2, counts={"sent": 2}, stopped="done"))
    db.dispose()
    assert (report.claimed, report.counts, report.stopped) == (2, {"sent": 2}, "database_down")
    assert "nowhere.invalid" in report.detail and "\n" not in report.detail and len(report.detail) <= 300
    assert follow_up_delay(report) == 2.0  # looked at again soon: the next run finds the work done again
