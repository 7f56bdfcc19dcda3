"""Send throughput: the whole pipeline vs raw smtplib, side by side, into Postfix's smtp-sink.

Pipeline: N recipients on PostgreSQL, `crm campaigns send` enqueuing on Redis, `crm worker`
processes claiming, rendering, building, sending over reused connections and recording
each result. Raw: smtplib sending the same pre-rendered message N times over one
connection to the same sink. Target: pipeline >= 0.5 x raw.

    python benchmarks/send_throughput.py [--recipients 20000] [--workers 2]

Needs smtp-sink (apt-get install postfix), redis-server and a PostgreSQL server.
The last line is one JSON object with the figures, the target and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm import migrate  # noqa: E402
from crm.campaigns import service as campaigns  # noqa: E402
from crm.db import insert_rows, make_engine, make_session_factory, utcnow  # noqa: E402
from crm.models import ConsentAction, ConsentEvent, ConsentSource, ConsentTopic, Contact  # noqa: E402
from crm.models.campaigns import Campaign, CampaignStatus  # noqa: E402
from crm.models.deliveries import Delivery  # noqa: E402
from crm.store import Store  # noqa: E402

BODY = """Bonjour {{ contact.first_name }},

Voici les **nouvelles** du cluster : trois projets collaboratifs retenus, une visite
d'entreprise à Angers le 12 mars, et le prochain débat thématique sur l'eau.

- Appel à projets « Agri-Innov » : dépôt avant le 30 avril
- Assemblée générale : le 18 juin
- Prix de l'innovation : candidatures ouvertes

À bientôt,
L'équipe d'animation
""" * 3


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink(port: int) -> subprocess.Popen[bytes]:
    exe = shutil.which("smtp-sink")
    if exe is None:
        sys.exit("smtp-sink not found: apt-get install postfix (then stop the postfix service)")
    proc = subprocess.Popen([exe, "-u", "nobody", f"127.0.0.1:{port}", "1024"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return proc


def start_redis(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return proc


def raw(port: int, message: bytes, count: int) -> float:
    conn = smtplib.SMTP("127.0.0.1", port)
    started = time.perf_counter()
    for i in range(count):
        conn.sendmail("animation@cluster.example.org", [f"r{i}@example.org"], message)
    seconds = time.perf_counter() - started
    conn.quit()
    return seconds


def prepare(url: str, count: int) -> tuple[Store, int]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    store = Store(engine, make_session_factory(engine))
    now = utcnow() - timedelta(days=1)
    with store.transaction() as session:
        insert_rows(session, Contact, [{"first_name": f"Prénom{i}", "last_name": f"Nom{i}", "email": f"r{i}@example.org",
                                        "language": "fr", "created_at": now, "updated_at": now} for i in range(count)])
        ids = list(session.scalars(select(Contact.id)))
        insert_rows(session, ConsentEvent, [{"contact_id": c, "topic": ConsentTopic.NEWSLETTER, "action": ConsentAction.OPT_IN,
                                             "source": ConsentSource.FORM, "at": now, "proof": "bench"} for c in ids])
    from crm.rendering import Renderer
    from crm.settings import Settings

    with store.transaction() as session:
        campaign = campaigns.create(
            session, renderer=Renderer.for_settings(Settings()), name="bench", kind=campaigns.kind("newsletter"),
            segment="consent(newsletter)", contents=[campaigns.ContentInput("fr", "Lettre, {{ contact.first_name }}", BODY)],
            from_address="animation@cluster.example.org", default_language="fr",
        )
    return store, campaign.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2, help="crm worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per crm worker")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    sink_port, redis_port = free_port(), free_port()
    sink, redis = start_sink(sink_port), start_redis(redis_port)
    name = f"crm_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        store, campaign_id = prepare(url, args.recipients)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")} | {
            "CRM_DATABASE_URL": url, "CRM_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CRM_SMTP_URL": f"smtp://127.0.0.1:{sink_port}?tls=off", "CRM_WORKER_PROCESSES": str(args.workers),
            "CRM_WORKER_THREADS": str(args.threads), "CRM_DELIVERY_BATCH_SIZE": "200",
            # real SMTP: the links need a secret of our own and a public address (crm.signing)
            "CRM_SECRET_KEY": "benchmark-" + "k" * 40, "CRM_BASE_URL": "https://crm.pole-agri-ouest.eu",
        }
        tmp = Path(tempfile.mkdtemp())
        # The `crm` installed next to this interpreter (not a version manager's shim, whose
        # extra start-up would be counted in the pipeline's time).
        beside = Path(sys.executable).with_name("crm")
        crm = str(beside) if beside.exists() else shutil.which("crm") or "crm"
        # The same message the pipeline sends, pre-rendered, for the raw baseline.
        preview = subprocess.run([crm, "campaigns", "preview", str(campaign_id), "--contact", "r0@example.org"],
                                 env=env, cwd=tmp, capture_output=True, check=True).stdout
        workers = [subprocess.Popen([crm, "worker", "--watch-interval", "1"], env=env, cwd=tmp,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(args.workers)]
        time.sleep(2.0)  # workers up
        raw_before = raw(sink_port, preview, args.recipients)
        started = time.perf_counter()
        subprocess.run([crm, "campaigns", "send", str(campaign_id)], env=env, cwd=tmp, check=True, capture_output=True)
        send_s = time.perf_counter() - started
        # Only the campaign's status is polled (one row): counting 20,000 deliveries five
        # times a second would load the database the pipeline is being measured on.
        while True:
            with store.transaction() as session:
                finished = session.scalar(select(Campaign.status).where(Campaign.id == campaign_id)) is CampaignStatus.FINISHED
            if finished:
                break
            time.sleep(0.1)
        pipeline_s = time.perf_counter() - started
        with store.transaction() as session:
            sent = campaigns.counts(session, campaign_id)["sent"]
            first_sent, last_sent = session.execute(
                select(func.min(Delivery.sent_at), func.max(Delivery.sent_at)).where(Delivery.campaign_id == campaign_id)
            ).one()
        wall_started = utcnow() - timedelta(seconds=time.perf_counter() - started)
        # Raw is measured before and after the pipeline, and the faster one is kept: the
        # ratio is never flattered by a noisy moment on a shared machine.
        raw_s = min(raw_before, raw(sink_port, preview, args.recipients))
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(20)
        sink.terminate()
        redis.terminate()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    pipeline_rate, raw_rate = args.recipients / pipeline_s, args.recipients / raw_s
    print(f"message size: {len(preview):,} bytes; recipients: {args.recipients:,}; sent: {sent:,}")
    print(f"pipeline ({args.workers} crm worker x {args.threads} threads): {pipeline_s:7.2f} s  {pipeline_rate:8.0f} msg/s")
    print(f"  of which: `crm campaigns send` {send_s:4.2f} s, to the first 250 {(first_sent - wall_started).total_seconds():5.2f} s, "
          f"first to last 250 {(last_sent - first_sent).total_seconds():5.2f} s "
          f"({args.recipients / max((last_sent - first_sent).total_seconds(), 1e-9):.0f} msg/s)")
    print(f"raw smtplib (1 connection): {raw_s:7.2f} s  {raw_rate:8.0f} msg/s")
    print(json.dumps({"benchmark": "send_throughput", "recipients": args.recipients, "workers": args.workers, "threads": args.threads,
                      "pipeline_msg_per_s": round(pipeline_rate), "raw_msg_per_s": round(raw_rate),
                      "target": "pipeline >= 0.5 x raw", "ratio": round(pipeline_rate / raw_rate, 3),
                      "met": pipeline_rate >= 0.5 * raw_rate}))


if __name__ == "__main__":
    main()
