"""The PostgreSQL backend's own: its schema version, its errors in words (a real server,
tests/pg.py; what every store does is in test_store_contract.py)."""

from __future__ import annotations

import threading

import pytest

from aggregator.errors import StoreError
from aggregator.store import open_url
from aggregator.store.postgres import public_url


def test_a_new_database_is_set_up_once_by_several_processes_opening_it(pg_url):
    errors, stores = [], []

    def open_one():
        try:
            stores.append(open_url(pg_url))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(stores) == 4
    for s in stores:
        assert s.counts().entries == 0
        s.close()


def test_a_store_of_a_newer_schema_is_refused(pg_url):
    import psycopg

    open_url(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreError, match=r"written by a newer aggregator \(schema 99\)"):
        open_url(pg_url)


def test_a_missing_database_says_how_to_make_it(postgres):
    with pytest.raises(StoreError) as info:
        open_url(postgres.url("no_such_db"))
    text = str(info.value)
    assert "no_such_db" in text and "createdb no_such_db" in text and "\n" not in text


def test_a_refused_connection_is_one_line_without_the_password(refused_url):
    port = refused_url.split(":")[2].split("/")[0]
    url = f"postgresql://digest:s3cret@127.0.0.1:{port}/news"
    with pytest.raises(StoreError) as info:
        open_url(url)
    text = str(info.value)
    assert "s3cret" not in text and "digest:***@127.0.0.1" in text
    assert "cannot connect" in text and "is PostgreSQL running there" in text
    assert public_url("postgresql://u@h/db") == "postgresql://u@h/db"
