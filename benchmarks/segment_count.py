"""Segment count: a 4-clause rule over 1,000,000 contacts on PostgreSQL. Target: < 1 s.

Generates the contacts server-side (generate_series), with tags, a consent log (opt-ins
and later opt-outs) and perception assessments, ANALYZEs, then times the same compiled
query `crm segments preview` and the campaign engine use (median of 5 warm runs).

    python benchmarks/segment_count.py [--contacts 1000000] [--postgres URL]

The last line is one JSON object with the figures, the target and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm import migrate  # noqa: E402
from crm.db import make_engine, make_session_factory  # noqa: E402
from crm.segments import service as segments  # noqa: E402

RULE = "language = fr and target in (member_company, partner) and tag = agrifood and consent(newsletter)"
TARGET_SECONDS = 1.0

FILL = [
    """INSERT INTO contacts (first_name, last_name, email, language, target, membership, created_at, updated_at)
       SELECT 'P' || g, 'N' || g, 'c' || g || '@example.org', (ARRAY['fr','en','ar','fr'])[1 + g % 4],
              (ARRAY['member_company','partner','research','media','investor','local_authority'])[1 + g % 6],
              (ARRAY['member','prospect','partner',NULL])[1 + g % 4], now(), now()
       FROM generate_series(1, :n) AS g""",
    "INSERT INTO tags (name) SELECT 't' || g FROM generate_series(1, 19) AS g",
    "INSERT INTO tags (name) VALUES ('agrifood')",
    """INSERT INTO contact_tags (contact_id, tag_id)
       SELECT c.id, 1 + (c.id / 7) % 20 FROM contacts c""",
    """INSERT INTO consent_events (contact_id, topic, action, at, source, proof)
       SELECT c.id, 'newsletter', 'opt_in', now() - interval '300 days', 'import', 'bench'
       FROM contacts c WHERE c.id % 10 < 6""",
    """INSERT INTO consent_events (contact_id, topic, action, at, source, proof)
       SELECT c.id, 'newsletter', 'opt_out', now() - interval '30 days', 'unsubscribe', 'bench'
       FROM contacts c WHERE c.id % 20 = 1""",
    """INSERT INTO perception_assessments (contact_id, credibility, interest, assessed_at, source, created_at)
       SELECT c.id, (ARRAY['high','low'])[1 + c.id % 2], (ARRAY['high','low','unknown'])[1 + c.id % 3],
              now() - interval '100 days', 'survey', now()
       FROM contacts c WHERE c.id % 3 = 0""",
    "ANALYZE",
]


def _time(session, rule_text: str) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """Count and median seconds of three runs after a warm-up."""
    rule = segments.resolve(session, rule_text)
    count = segments.count(session, rule)
    timings = []
    for _ in range(3):
        t = time.perf_counter()
        segments.count(session, rule)
        timings.append(time.perf_counter() - t)
    return count, statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rule", default=RULE)
    parser.add_argument("--also", action="append", default=[], metavar="RULE",
                        help="more rules to time on the same data, for information (repeatable)")
    args = parser.parse_args()

    name = f"crm_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        migrate.upgrade(engine)
        started = time.perf_counter()
        with engine.connect() as conn:
            for statement in FILL:
                conn.execute(text(statement), {"n": args.contacts} if ":n" in statement else {})
                conn.commit()
        print(f"generated {args.contacts:,} contacts in {time.perf_counter() - started:.1f} s")
        sessions = make_session_factory(engine)
        timings = []
        with sessions() as session:
            rule = segments.resolve(session, args.rule)
            count = segments.count(session, rule)  # warm-up
            for _ in range(5):
                t = time.perf_counter()
                again = segments.count(session, rule)
                timings.append(time.perf_counter() - t)
                assert again == count
            also = [(extra, *_time(session, extra)) for extra in args.also]
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    median = statistics.median(timings)
    print(f"rule: {args.rule}")
    print(f"count: {count:,} of {args.contacts:,}; median {median * 1000:.0f} ms (runs: {', '.join(f'{t * 1000:.0f}' for t in timings)} ms)")
    for extra, n, seconds in also:
        print(f"also: {extra}: {n:,}; median {seconds * 1000:.0f} ms")
    print(json.dumps({"benchmark": "segment_count", "contacts": args.contacts, "rule": args.rule, "count": count,
                      "median_seconds": round(median, 3), "target": f"< {TARGET_SECONDS:.0f} s",
                      "ratio": round(median / TARGET_SECONDS, 3), "met": median < TARGET_SECONDS}))


if __name__ == "__main__":
    main()
