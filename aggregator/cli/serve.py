"""``aggregator serve``: run the job on the configured schedule, and serve the site locally.

One job, ``max_instances=1`` and ``coalesce=True``: a run that overlaps the next tick delays it
instead of starting a second run. The first run starts at once. A tick that finds the store
held by another process (a cron run, a ``render``) is skipped with a warning; the next tick
tries again. SIGTERM and Ctrl-C stop the scheduler after the current run finishes.

Beside it, unless ``--no-http``, a small read-only web server shows the built site on
``http://127.0.0.1:8000/`` (``--bind``, ``--port``), like ``hugo server`` or ``mkdocs serve``:
a preview, and what the search page needs (its index is fetched over http). It answers GET and
HEAD for files inside the output folder only: no directory listings, no dotfiles, nothing a
symlink points at outside the folder.
"""

from __future__ import annotations

import http.server
import logging
import os
import signal
import socket
import threading
from datetime import datetime, timezone
from functools import partial
from typing import Callable

from ..config import Config
from ..store.lock import Busy

log = logging.getLogger("aggregator.serve")

DEFAULT_BIND = "127.0.0.1"
DEFAULT_PORT = 8000


def make_trigger(config: Config):
    """The APScheduler trigger for ``config.schedule`` (cron wins over interval)."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if config.schedule.cron:
        return CronTrigger.from_crontab(config.schedule.cron, timezone=timezone.utc)
    return IntervalTrigger(seconds=config.schedule.interval or 1800, timezone=timezone.utc)


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Files of the output folder, read-only; a folder answers with its index.html or 404."""

    server_version = "aggregator"
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".json": "application/json", ".js": "text/javascript",
                      ".css": "text/css", ".xml": "application/xml", ".wasm": "application/wasm"}

    def translate_path(self, path: str) -> str:
        full = super().translate_path(path)
        root = os.path.realpath(self.directory)
        real = os.path.realpath(full)
        rel = os.path.relpath(real, root)
        if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
            return os.path.join(root, ".outside")  # a symlink out of the site: not found
        if any(part.startswith(".") for part in rel.split(os.sep) if part != os.curdir):
            return os.path.join(root, ".hidden")  # the manifest, a .git: not the site's pages
        return full

    def list_directory(self, path):
        self.send_error(404, "Not found")

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")  # a preview: always the latest build
        super().end_headers()

    def _refuse(self) -> None:
        self.send_error(405, "Read-only")

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # http.server's naming

    def log_message(self, format: str, *args) -> None:  # http.server's signature
        log.debug("http: " + format, *args)


def site_server(directory: str | os.PathLike, bind: str = DEFAULT_BIND,
                port: int = DEFAULT_PORT) -> http.server.ThreadingHTTPServer:
    """A web server for ``directory`` (not yet serving: call ``serve_forever`` in a thread).
    Raises OSError when the address is taken or cannot be bound."""
    os.makedirs(directory, exist_ok=True)
    handler = partial(SiteHandler, directory=str(directory))
    server_class: type[http.server.ThreadingHTTPServer] = (
        _V6Server if ":" in bind else http.server.ThreadingHTTPServer)  # ":": an IPv6 address
    httpd = server_class((bind, port), handler)
    httpd.daemon_threads = True
    return httpd


class _V6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def url_of(httpd: http.server.HTTPServer) -> str:
    host, port = str(httpd.server_address[0]), httpd.server_address[1]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/"


def serve(config: Config, job: Callable[[], tuple[int, str]],
          stop: threading.Event | None = None, *,
          httpd: http.server.HTTPServer | None = None, quiet: int = 0) -> int:
    """Run ``job`` now and on schedule until ``stop`` is set or a signal arrives; serve the
    site with ``httpd`` meanwhile, when given. Returns 130 after Ctrl-C, else 0."""
    from apscheduler.schedulers.background import BackgroundScheduler

    stop = stop or threading.Event()
    lock = threading.Lock()  # belt and braces next to max_instances=1
    interrupted = threading.Event()

    def run() -> None:
        if not lock.acquire(blocking=False):
            log.warning("previous run still going; skipping this tick")
            return
        try:
            code, line = job()
            log.warning("run finished: %s", line) if code else print(line, flush=True)
        except Busy as e:
            log.warning("skipping this run: %s", e)
        except Exception:  # keep serving: one bad run is logged, the next tick tries again
            log.exception("run failed")
        finally:
            lock.release()

    def on_signal(sig: int, _frame: object) -> None:
        if sig == signal.SIGINT:
            interrupted.set()
        stop.set()

    scheduler = BackgroundScheduler(timezone=timezone.utc)
    scheduler.add_job(run, make_trigger(config), id="aggregator-run", max_instances=1,
                      coalesce=True, misfire_grace_time=None,
                      next_run_time=datetime.now(timezone.utc))
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    web = None
    if httpd is not None:
        web = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                               name="aggregator-http", daemon=True)
        web.start()
    scheduler.start()
    what = f"cron '{config.schedule.cron}'" if config.schedule.cron else \
        f"every {config.schedule.interval:g}s"
    if quiet < 1:
        print(f"serving {config.path}: runs {what}"
              + (f"; the site at {url_of(httpd)}" if httpd is not None else "")
              + " (Ctrl-C to stop)", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        log.info("stopping: waiting for the current run to finish")
        scheduler.shutdown(wait=True)
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 130 if interrupted.is_set() else 0
