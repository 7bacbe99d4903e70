"""`aggregator serve`: runs at once, then on schedule, never two runs at once, stops cleanly."""

import threading
import time
from pathlib import Path

from aggregator.config import load_config
from aggregator.cli.serve import make_trigger, serve


def config(tmp_path: Path, schedule: str):
    p = tmp_path / "config.yaml"
    p.write_text(f"schedule:\n{schedule}\nfeeds: []\n", encoding="utf-8")
    return load_config(p)


def test_runs_now_and_repeatedly_never_overlapping(tmp_path):
    cfg = config(tmp_path, "  interval: 1")
    stop = threading.Event()
    running = []
    overlaps = []
    starts = []

    def job():
        if running:
            overlaps.append(time.monotonic())
        running.append(1)
        starts.append(time.monotonic())
        time.sleep(1.5)  # longer than the interval: the next tick must wait, not overlap
        running.pop()
        return 0, "ok"

    t = threading.Thread(target=serve, args=(cfg, job, stop))
    t.start()
    time.sleep(4.2)
    stop.set()
    t.join(timeout=10)
    assert not t.is_alive(), "serve did not stop"
    assert len(starts) >= 2
    assert not overlaps
    assert not running  # the run in progress was allowed to finish


def test_a_failing_run_does_not_stop_serving(tmp_path):
    cfg = config(tmp_path, "  interval: 1")
    stop = threading.Event()
    calls = []

    def job():
        calls.append(1)
        raise RuntimeError("boom")

    t = threading.Thread(target=serve, args=(cfg, job, stop))
    t.start()
    time.sleep(2.5)
    stop.set()
    t.join(timeout=10)
    assert len(calls) >= 2


def test_cron_trigger(tmp_path):
    trigger = make_trigger(config(tmp_path, "  cron: '*/15 6-18 * * 1-5'"))
    assert "cron" in type(trigger).__name__.lower()
    assert "6-18" in str(trigger)
