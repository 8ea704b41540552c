"""Search everything Airflow stored for secrets: task logs and every text column of its database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path


SECRET_TABLES = frozenset({"connection"})
"""Tables that exist to store secrets, such as a connection's password; not searched."""


def find_leaks(secrets: Iterable[str], airflow_home: Path) -> list[str]:
    """Return one line per place under ``airflow_home`` that contains one of ``secrets``.

    The lines name the place and which secret (by its first characters)
    without printing the secret itself.
    """
    needles = [secret for secret in secrets if secret and len(secret) >= 8]
    leaks = []

    for path in sorted((airflow_home / "logs").rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        leaks += [f"log {path}: {_label(s)}" for s in needles if s in text]

    database = airflow_home / "airflow.db"
    if database.exists():
        leaks += _scan_database(database, needles)
    return leaks


def _scan_database(database: Path, needles: list[str]) -> list[str]:
    leaks = []
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            if table in SECRET_TABLES:
                continue
            for row in connection.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from sqlite_master
                for value in row:
                    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
                    leaks += [f"table {table}: {_label(s)}" for s in needles if s in text]
    finally:
        connection.close()
    return leaks


def _label(secret: str) -> str:
    return f"secret starting {secret[:4]!r}"
