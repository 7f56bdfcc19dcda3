"""A batch sends from what it loaded at the claim: a recipient whose address was missing then
is suppressed as `no_address`, even when the address is back by the time the row's turn comes.

The send-time check (the ledger's) reads the database again and finds the address present, so
only the engine's own look at the batch's snapshot stands between a stale snapshot and a
message built for nobody (or a crash on a missing contact). The snapshot is the real
`recipients.load` with one contact's address taken out (or the contact left out), as a
concurrent edit would leave it between the claim and the send.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from crm.delivery import recipients
from crm.delivery.engine import BatchReport
from crm.mail.smtp import SMTPTransport
from crm.models.deliveries import Delivery
from tests.support import delivery as h
from tests.support.smtp_server import SMTPServer


@pytest.mark.parametrize("snapshot", ["address None", "address empty", "contact missing"])
def test_a_recipient_without_an_address_in_the_snapshot_is_suppressed_and_the_batch_goes_on(
        store, snapshot: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    ids = h.add_contacts(store, 3, languages=("fr",))
    campaign_id = h.newsletter(store, languages=("fr",))
    h.start(store, campaign_id)
    real_load = recipients.load

    def load(session, contact_ids):  # noqa: ANN001, ANN202
        people = real_load(session, contact_ids)
        if snapshot == "contact missing":
            del people[ids[1]]
        else:
            people[ids[1]] = dataclasses.replace(people[ids[1]], email=None if snapshot == "address None" else "")
        return people

    monkeypatch.setattr(recipients, "load", load)
    with SMTPServer() as server:
        engine = h.engine(store, SMTPTransport(server.url))
        report = engine.run_batch(campaign_id)
        received = sorted(r.recipients[0] for r in server.recorder.received)
    assert report == BatchReport(claimed=3, counts={"sent": 2, "suppressed": 1}, stopped="done")
    assert received == ["r0@example.org", "r2@example.org"]
    with store.transaction() as session:
        rows = {r.contact_id: (r.status.value, r.suppression_reason, r.address, r.lease_owner)
                for r in session.scalars(select(Delivery).where(Delivery.campaign_id == campaign_id))}
    assert rows == {
        ids[0]: ("sent", None, "r0@example.org", None),
        ids[1]: ("suppressed", "no_address", None, None),
        ids[2]: ("sent", None, "r2@example.org", None),
    }
