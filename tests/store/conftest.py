"""A fresh state store per test: SQLite always, PostgreSQL when the CI provides one.

On PostgreSQL each test gets a schema of its own, selected through ``search_path``
in the URL, and the schema is dropped afterwards; tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from connector.store import Store

POSTGRES_URL = os.environ.get("DUNNING_TEST_POSTGRES_URL")


def _postgres_schema() -> Iterator[str]:
    """Create a uniquely named schema; yield a URL that uses it; drop it."""
    assert POSTGRES_URL is not None
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(
                    not POSTGRES_URL, reason="DUNNING_TEST_POSTGRES_URL is not set"
                ),
            ],
        ),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'dunning.db'}"
    else:
        yield from _postgres_schema()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store on an empty database."""
    opened = Store.open(store_url)
    try:
        yield opened
    finally:
        opened.close()
