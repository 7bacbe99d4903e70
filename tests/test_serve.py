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


def _site_server(tmp_path):
    import os
    import threading as th

    from aggregator.cli.serve import site_server

    site = tmp_path / "site"
    (site / "feeds").mkdir(parents=True)
    (site / "index.html").write_text("<h1>home</h1>")
    (site / "feeds" / "a.html").write_text("feed a")
    (site / ".aggregator-manifest.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", site / "link.txt")
    httpd = site_server(site, "127.0.0.1", 0)
    th.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def _status(url: str, method: str = "GET") -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, method=method, data=b"x" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def test_the_site_server_is_read_only_and_stays_in_the_site(tmp_path):
    httpd, base = _site_server(tmp_path)
    try:
        assert _status(f"{base}/") == (200, b"<h1>home</h1>")
        assert _status(f"{base}/feeds/a.html") == (200, b"feed a")
        assert _status(f"{base}/feeds/")[0] == 404  # no listing
        assert _status(f"{base}/.aggregator-manifest.json")[0] == 404
        assert _status(f"{base}/link.txt")[0] == 404  # a symlink out of the site
        assert _status(f"{base}/../secret.txt")[0] == 404
        assert _status(f"{base}/%2e%2e/secret.txt")[0] == 404
        assert _status(f"{base}/index.html", "POST")[0] == 405
        assert _status(f"{base}/index.html", "HEAD")[0] == 200
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_serve_with_its_port_taken_exits_2(tmp_path, capsys):
    import socket

    from aggregator.cli import main

    cfg = config(tmp_path, "  interval: 1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--config", str(cfg.path), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--no-http" in err


def test_serve_serves_the_site_while_it_runs(tmp_path, capsys):
    httpd, base = _site_server(tmp_path)
    httpd.shutdown()  # serve() runs it itself
    from aggregator.cli.serve import serve

    cfg = config(tmp_path, "  interval: 3600")
    stop = threading.Event()
    seen = []

    def job():
        seen.append(_status(f"{base}/index.html"))
        stop.set()
        return 0, "ran"

    t = threading.Thread(target=serve, args=(cfg, job, stop), kwargs={"httpd": httpd})
    t.start()
    t.join(timeout=30)
    assert not t.is_alive()
    assert seen == [(200, b"<h1>home</h1>")]
    out = capsys.readouterr().out
    assert f"the site at {base}/" in out and "ran" in out
