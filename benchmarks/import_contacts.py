"""Import benchmark: a 100,000-row French-Excel CSV into SQLite and PostgreSQL.

Generates the file (Windows-1252, semicolons, French headers, accents, quoted newlines,
a few bad rows and duplicates), imports it through the real service into an empty
database of each engine, and prints rows/s. Target: under 20 s on SQLite.

    python benchmarks/import_contacts.py [--rows 100000] [--postgres URL | --no-postgres]

The last line is one JSON object with the figures, the target and the ratio.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crm import migrate
from crm.db import make_engine, make_session_factory
from crm.csvfiles.imports import import_contacts

TARGET_SQLITE_SECONDS = 20.0
FIRST = ["Hélène", "Jérôme", "François", "Zoé", "Amélie", "Karim", "Yasmine", "Noël", "Gaëlle", "Loïc", "Anaïs", "Mehdi", "Chloé", "Rémi"]
LAST = ["Lefèvre", "Dubois", "Benali", "Moreau", "Garçon", "Haddad", "Léger", "Bérard", "Chérif", "Martin", "Roussel", "Périer"]
ORGS = [f"Société {w} {i}" for i in range(400) for w in ("Agri-Réseau",)] + [f"Université de {c}" for c in ("Angers", "Nantes", "Rennes", "Caen")]
CATEGORIES = ["entreprise membre", "partenaire", "université", "collectivité territoriale", "investisseur", "média", "porteur de projet", "autre cluster"]
LANGS = ["français", "fr", "anglais", "en", "arabe", "ar"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="cp1252", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(["Nom", "Prénom", "Courriel", "Société", "Catégorie", "Téléphone", "Langue", "Ville", "Fonction", "Étiquettes", "Commentaire", "Effectif"])
        for i in range(rows):
            email = f"contact{i}@exemple-{i % 97}.fr"
            if i % 1000 == 999:
                email = f"contact{i}-sans-arobase.fr"  # a bad row
            if i % 500 == 250:
                email = f"CONTACT{i - 1}@EXEMPLE-{(i - 1) % 97}.FR"  # the same person again
            writer.writerow([
                rng.choice(LAST), rng.choice(FIRST), email, rng.choice(ORGS), rng.choice(CATEGORIES),
                f"0{rng.randint(1, 9)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                rng.choice(LANGS), rng.choice(["Angers", "Nantes", "Saint-Étienne", "Besançon"]),
                rng.choice(["Directrice R&D", "Gérant", "Chargé d'affaires", "Maître de conférences"]),
                rng.choice(["agroalimentaire", "eau; export", "numérique", ""]),
                "Rencontré au salon\nà rappeler" if i % 50 == 0 else "",
                str(rng.randint(1, 5000)),
            ])


def run(url: str, path: Path) -> dict[str, float]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    started = time.perf_counter()
    with sessions.begin() as session:
        result = import_contacts(session, path)
    seconds = time.perf_counter() - started
    engine.dispose()
    rows = result.created + result.updated + result.skipped + len(result.rejected)
    return {"seconds": round(seconds, 2), "rows_per_s": round(rows / seconds), "created": result.created,
            "updated": result.updated, "rejected": len(result.rejected)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "adherents.csv"
        generate(path, args.rows)
        print(f"generated {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB (cp1252, ';')")
        figures: dict[str, dict[str, float]] = {}
        figures["sqlite"] = run(f"sqlite:///{Path(tmp) / 'bench.db'}", path)
        print(f"sqlite:     {figures['sqlite']['seconds']:6.2f} s  {figures['sqlite']['rows_per_s']:>8,} rows/s  {figures['sqlite']}")
        if not args.no_postgres:
            name = f"crm_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
                figures["postgresql"] = run(url, path)
                print(f"postgresql: {figures['postgresql']['seconds']:6.2f} s  {figures['postgresql']['rows_per_s']:>8,} rows/s  {figures['postgresql']}")
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    sqlite_s = figures["sqlite"]["seconds"]
    print(json.dumps({
        "benchmark": "import_contacts", "rows": args.rows,
        "sqlite_seconds": sqlite_s, "sqlite_rows_per_s": figures["sqlite"]["rows_per_s"],
        "postgresql_seconds": figures.get("postgresql", {}).get("seconds"),
        "postgresql_rows_per_s": figures.get("postgresql", {}).get("rows_per_s"),
        "target": f"sqlite < {TARGET_SQLITE_SECONDS:.0f} s",
        "ratio": round(sqlite_s / TARGET_SQLITE_SECONDS, 3),
        "met": sqlite_s < TARGET_SQLITE_SECONDS,
    }))


if __name__ == "__main__":
    main()
