"""Why deliveries did not go: a campaign's failures, suppressions and unknowns, grouped.

The ledger keeps the server's answer (``last_error``) of a failed or unknown delivery and
the reason (``suppression_reason``) of a suppressed one. The database groups identical
texts; texts that differ only by the recipient's address (``550 5.1.1 <bob@x>: user
unknown``) are then counted as one reason, so the list reads like a diagnosis:
``failed: 550 5.1.1 <…>: user unknown ×12``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm.models.deliveries import Delivery, DeliveryStatus as D

#: statuses whose reasons are shown, as keys of the result
SHOWN = {D.FAILED: "failed", D.SUPPRESSED: "suppressed", D.UNKNOWN: "unknown"}
#: reasons listed per status; the rest are counted in one last entry
TOP = 20
NO_REASON = "(no reason recorded)"
_ADDRESS = re.compile(r"[^\s<>()\[\]@\"',;:]+@[^\s<>()\[\]@\"',;:]+")
_SPACE = re.compile(r"\s+")
_MAX_CHARS = 300


def _normal(text: str | None) -> str:
    if text is None or not text.strip():
        return NO_REASON
    text = _SPACE.sub(" ", _ADDRESS.sub("…", text)).strip()
    return text if len(text) <= _MAX_CHARS else text[: _MAX_CHARS - 1] + "…"


def grouped(session: Session, campaign_id: int) -> dict[str, list[dict[str, Any]]]:
    """``{"failed": [{"reason", "count"}, …], "suppressed": […], "unknown": […]}``, most
    frequent first (then by text), at most TOP per status plus one "other reasons" entry."""
    reason = case((Delivery.status == D.SUPPRESSED, Delivery.suppression_reason), else_=Delivery.last_error)
    rows = session.execute(
        select(Delivery.status, reason, func.count())
        .where(Delivery.campaign_id == campaign_id, Delivery.status.in_(list(SHOWN)))
        .group_by(Delivery.status, reason)
    )
    counted: dict[str, Counter[str]] = {key: Counter() for key in SHOWN.values()}
    for status, text, count in rows:
        counted[SHOWN[D(status)]][_normal(text)] += count
    result: dict[str, list[dict[str, Any]]] = {}
    for key, counter in counted.items():
        ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        entries = [{"reason": text, "count": count} for text, count in ranked[:TOP]]
        rest = ranked[TOP:]
        if rest:
            entries.append({"reason": f"{len(rest)} other reasons", "count": sum(count for _, count in rest)})
        result[key] = entries
    return result

