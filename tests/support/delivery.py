"""Building stores, contacts and campaigns for the send pipeline's tests (real databases)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from crm import migrate
from crm.campaigns import service as campaigns
from crm.db import insert_rows, make_engine, make_session_factory, utcnow
from crm.delivery.compose import Composer
from crm.delivery.engine import Engine, EngineConfig
from crm.delivery.ratelimit import LocalRateLimiter, RateLimiter
from crm.mail.transport import Transport
from crm.models import ConsentAction, ConsentEvent, ConsentSource, ConsentTopic, Contact
from crm.rendering import Renderer
from crm.store import Store

BASE_URL = "https://crm.pole-agri-ouest.eu"  # a public address: real mail refuses example domains
SECRET = "test-secret-of-at-least-32-characters-xyz"  # real mail needs 32+

NEWS = {
    "fr": ("Lettre du cluster, {{ contact.first_name }}", "Bonjour {{ contact.first_name }},\n\nVoici les **nouvelles** du cluster."),
    "en": ("Cluster news, {{ contact.first_name }}", "Hello {{ contact.first_name }},\n\nHere is the cluster's **news**."),
    "ar": ("أخبار المجموعة", "مرحبا {{ contact.first_name }}،\n\nإليكم **أخبار** المجموعة."),
}


def open_store(url: str) -> Store:
    engine = make_engine(url)
    migrate.upgrade(engine)
    return Store(engine, make_session_factory(engine))


def add_contacts(store: Store, count: int, *, start: int = 0, consent: bool = True, languages: tuple[str, ...] = ("fr", "en", "ar"),
                 domain: str = "example.org") -> list[int]:
    """``count`` contacts r{i}@domain (newsletter opt-in when ``consent``); returns their ids."""
    now = utcnow() - timedelta(days=1)
    with store.transaction() as session:
        rows = [{"first_name": f"Prénom{i}", "last_name": f"Nom{i}", "email": f"r{i}@{domain}",
                 "language": languages[i % len(languages)], "created_at": now, "updated_at": now}
                for i in range(start, start + count)]
        insert_rows(session, Contact, rows)
        ids = list(session.scalars(select(Contact.id).where(Contact.email.in_([r["email"] for r in rows])).order_by(Contact.id)))
        if consent:
            insert_rows(session, ConsentEvent, [
                {"contact_id": cid, "topic": ConsentTopic.NEWSLETTER, "action": ConsentAction.OPT_IN,
                 "source": ConsentSource.FORM, "at": now, "proof": "test"} for cid in ids])
    return ids


def renderer() -> Renderer:
    return Renderer(cluster_name="Cluster Test", base_url=BASE_URL)


def composer() -> Composer:
    return Composer(renderer(), base_url=BASE_URL, secret_key=SECRET, cluster_default_language="fr")


def newsletter(store: Store, *, segment: str = "consent(newsletter)", languages: tuple[str, ...] = ("fr", "en", "ar"),
               **options: Any) -> int:
    with store.transaction() as session:
        campaign = campaigns.create(
            session, renderer=renderer(), name="Lettre", kind=campaigns.kind("newsletter"),
            segment=segment, contents=[campaigns.ContentInput(lang, *NEWS[lang]) for lang in languages],
            from_address="animation@cluster.example.org", from_name="Cluster Test", default_language=languages[0], **options,
        )
        return campaign.id


def engine(store: Store, transport: Transport, *, worker: str = "test-worker", limiter: RateLimiter | None = None,
           **config: Any) -> Engine:
    settings = {"batch_size": 50, "lease": timedelta(seconds=30), "max_attempts": 3, "retry_base_seconds": 0.2} | config
    return Engine(store.sessions, transport, composer(), limiter or LocalRateLimiter(), EngineConfig(worker=worker, **settings))


def counts(store: Store, campaign_id: int) -> dict[str, Any]:
    with store.transaction() as session:
        return campaigns.counts(session, campaign_id)


def start(store: Store, campaign_id: int) -> dict[str, Any]:
    with store.transaction() as session:
        return campaigns.send(session, campaign_id)
