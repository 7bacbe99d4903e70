"""``aggregator serve``: run the job on the configured schedule with APScheduler.

One job, ``max_instances=1`` and ``coalesce=True``: a run that overlaps the
next tick delays it instead of starting a second run. The first run starts at
once. A tick that finds the store held by another process (a cron run, a
``render``) is skipped with a warning; the next tick tries again. SIGTERM and
Ctrl-C stop the scheduler after the current run finishes.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timezone
from typing import Callable

from ..config import Config
from ..store.lock import Busy

log = logging.getLogger("aggregator.serve")


def make_trigger(config: Config):
    """The APScheduler trigger for ``config.schedule`` (cron wins over interval)."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if config.schedule.cron:
        return CronTrigger.from_crontab(config.schedule.cron, timezone=timezone.utc)
    return IntervalTrigger(seconds=config.schedule.interval or 1800, timezone=timezone.utc)


def serve(config: Config, job: Callable[[], tuple[int, str]],
          stop: threading.Event | None = None) -> int:
    """Run ``job`` now and on schedule until ``stop`` is set or a signal arrives."""
    from apscheduler.schedulers.background import BackgroundScheduler

    stop = stop or threading.Event()
    lock = threading.Lock()  # belt and braces next to max_instances=1

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

    scheduler = BackgroundScheduler(timezone=timezone.utc)
    scheduler.add_job(run, make_trigger(config), id="aggregator-run", max_instances=1,
                      coalesce=True, misfire_grace_time=None,
                      next_run_time=datetime.now(timezone.utc))
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    scheduler.start()
    what = f"cron '{config.schedule.cron}'" if config.schedule.cron else \
        f"every {config.schedule.interval:g}s"
    log.warning("serving %s: %s (Ctrl-C to stop)", config.path, what)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        log.warning("stopping: waiting for the current run to finish")
        scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
