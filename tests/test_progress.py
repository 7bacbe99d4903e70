"""What a long run shows while it works: a line every so often under cron, nothing with -q."""

from __future__ import annotations

import io
import logging
import threading
import time
from pathlib import Path

from aggregator.cli.main import run_once
from aggregator.cli.progress import Heartbeat
from aggregator.config import load_config

DATA = Path(__file__).resolve().parent / "data" / "feeds"


class Pipe(io.StringIO):
    def isatty(self) -> bool:  # what cron gives: not a terminal
        return False


def test_a_heartbeat_line_while_a_stage_goes_on(caplog):
    caplog.set_level(logging.INFO, logger="aggregator.progress")
    done = [0]
    with Heartbeat(0, Pipe(), every=0.2) as beat:
        beat.at("grouping 5,000 new entries into stories", lambda: f"{done[0]} done")
        for done[0] in range(1, 6):
            time.sleep(0.15)
    lines = [r.getMessage() for r in caplog.records if r.name == "aggregator.progress"]
    assert len(lines) >= 2
    assert all(line.startswith("still working (") for line in lines)
    assert "grouping 5,000 new entries into stories: " in lines[-1] and lines[-1].endswith("done")


def test_no_heartbeat_with_quiet_or_on_a_terminal(caplog):
    caplog.set_level(logging.INFO, logger="aggregator.progress")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for quiet, stream in ((1, Pipe()), (0, Terminal())):
        with Heartbeat(quiet, stream, every=0.05) as beat:
            beat.at("fetching 3 feeds")
            time.sleep(0.3)
    assert [r for r in caplog.records if r.name == "aggregator.progress"] == []


def test_a_slow_run_under_cron_says_how_far_it_is(tmp_path, server, caplog):
    caplog.set_level(logging.INFO, logger="aggregator.progress")
    started = threading.Event()

    def slow(h):
        started.set()
        time.sleep(1.5)
        body = (DATA / "si-adalk.xml").read_bytes()
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    fast = server.serve_bytes("/ta.xml", (DATA / "ta-virakesarilk.xml").read_bytes())
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"site: {{output: site}}\nstorage: {{path: s.sqlite3}}\n"
                   f"feeds:\n  - {{name: Fast, url: '{fast}'}}\n"
                   f"  - {{name: Slow, url: '{server.route('/slow.xml', slow)}'}}\n")
    code, summary = run_once(load_config(cfg), progress_every=0.4)
    assert code == 0 and "2 feeds ok" in summary
    lines = [r.getMessage() for r in caplog.records if r.name == "aggregator.progress"]
    assert any("fetching 2 feeds: 1 of 2 feeds done, 93 new entries" in line for line in lines), lines
