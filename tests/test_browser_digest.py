"""The offline example as a reader meets it, in headless Chromium, served by ``aggregator serve``.

``aggregator serve --config examples/offline.yaml --port N`` runs (a real process: its first run
builds the site, its web server answers on the port); Chromium then reads the front page at
desktop and phone width (entries in all three languages), searches in Tamil and Sinhala through
the Pagefind index, and axe-core checks every page type in both colour schemes. Screenshots are
kept as test artefacts in ``test-artifacts/screenshots/`` (``AGGREGATOR_SCREENSHOTS`` overrides).
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from axe import axe_script, report, violations
from cdp import Browser, find_chromium
from render_data import NOW, site_config, site_data

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = find_chromium()
REQUIRED = os.environ.get("AGGREGATOR_REQUIRE_BROWSER") == "1"
if CHROMIUM is None and REQUIRED:
    raise RuntimeError("the browser tests need Chromium: apt-get install chromium fonts-noto-core")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")

SHOTS = Path(os.environ.get("AGGREGATOR_SCREENSHOTS") or ROOT / "test-artifacts" / "screenshots")
WIDTHS = {"desktop": (1200, 900), "phone": (390, 844)}
# words of the bundled captures (examples/feeds/): a shooting in Ambalangoda, in both papers
TAMIL_WORD = "துப்பாக்கிச்"
SINHALA_WORD = "අම්බලන්ගොඩ"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The offline example, run and served by ``aggregator serve`` on a free port."""
    work = tmp_path_factory.mktemp("offline")
    shutil.copytree(ROOT / "examples", work / "examples",
                    ignore=shutil.ignore_patterns("site", "*.sqlite3*"))
    port = _free_port()
    env = {**os.environ, "AGGREGATOR_EMBEDDINGS": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "aggregator.cli", "serve", "--config",
                             str(work / "examples" / "offline.yaml"), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:  # the first run builds the site; the server answers 404 until then
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited {proc.returncode}: {proc.stdout.read()}")
            try:
                if _get(f"{base}/index.html")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("aggregator serve did not serve the site in 120 s")
            time.sleep(0.3)
        yield base, proc, work / "examples" / "site"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def browser():
    b = Browser(CHROMIUM)
    yield b
    b.quit()


def _shot(browser: Browser, name: str, full: bool = False) -> Path:
    params = {"format": "png"}
    if full:
        params["captureBeyondViewport"] = True
        w = browser.eval("document.documentElement.scrollWidth")
        h = min(browser.eval("document.documentElement.scrollHeight"), 12000)
        params["clip"] = {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}
    png = base64.b64decode(browser.send("Page.captureScreenshot", **params)["data"])
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    path.write_bytes(png)
    return path


def _view(browser: Browser, width: str, scheme: str = "light") -> None:
    w, h = WIDTHS[width]
    browser.send("Emulation.setDeviceMetricsOverride", width=w, height=h, deviceScaleFactor=1,
                 mobile=width == "phone")
    browser.send("Emulation.setEmulatedMedia",
                 features=[{"name": "prefers-color-scheme", "value": scheme}])


def test_serve_answers_on_its_port_read_only(served):
    base, proc, site = served
    status, body = _get(f"{base}/")
    assert status == 200 and b"<h1 class=\"site-title\">" in body
    assert _get(f"{base}/search.js")[0] == 200
    assert _get(f"{base}/archive/")[0] == 200  # a folder answers with its index.html
    assert _get(f"{base}/feeds/")[0] == 404  # and is never listed
    assert _get(f"{base}/.aggregator-manifest.json")[0] == 404
    assert _get(f"{base}/../offline.yaml")[0] == 404
    assert _get(f"{base}/%2e%2e/offline.yaml")[0] == 404
    req = urllib.request.Request(f"{base}/index.html", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 405
    assert (site / "index.html").is_file()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_front_page_shows_all_three_languages(served, browser, width):
    base, _, _ = served
    _view(browser, width)
    browser.goto(f"{base}/index.html", settle=0.5)
    counts = browser.eval("""(() => Object.fromEntries(['en', 'ta', 'si'].map(l => [l,
        document.querySelectorAll(`#latest-${l} ~ article[lang="${l}"]`).length])))()""")
    assert all(counts[lang] >= 5 for lang in ("en", "ta", "si")), counts
    # the top stories come first, told in several languages
    top_langs = browser.eval("""[...new Set([...document.querySelectorAll(
        '.top-stories article[lang], .top-stories .versions [lang]')].map(e => e.lang))]""")
    assert {"ta", "si"} <= set(top_langs) or {"en"} <= set(top_langs), top_langs
    # every language's section is on the page, in config order, each with a link to the rest
    order = browser.eval("[...document.querySelectorAll('.latest-lang h2')].map(h => h.id)")
    assert order == ["latest-en", "latest-ta", "latest-si"]
    assert browser.eval("document.documentElement.scrollWidth") <= WIDTHS[width][0]
    assert browser.eval("document.querySelectorAll('h1').length") == 1
    # the header leaves room for the content on a phone (the offline example's long title takes
    # two lines there; the two rows of language links alone took about 200 px before)
    header = browser.eval("document.querySelector('.site-header').getBoundingClientRect().height")
    assert header < (160 if width == "phone" else 120), header
    _shot(browser, f"offline-front-{width}")
    _shot(browser, f"offline-front-{width}-full", full=True)
    browser.send("Emulation.clearDeviceMetricsOverride")


def _search(browser: Browser, base: str, page: str, word: str, language: str = "") -> list[dict]:
    browser.goto(f"{base}/{page}", settle=0.3)
    if language:
        browser.eval(f"(() => {{ const s = document.getElementById('search-language'); "
                     f"s.value = {language!r}; s.dispatchEvent(new Event('change')); }})()")
    browser.eval("document.getElementById('search-q').focus()")
    browser.send("Input.insertText", text=word)  # typed, as a keyboard or an IME would
    deadline = time.monotonic() + 20
    while browser.eval("document.getElementById('search-results').dataset.query") != word:
        if time.monotonic() > deadline:
            status = browser.eval("document.getElementById('search-status').textContent")
            raise TimeoutError(f"the search for {word!r} did not finish: {status!r}")
        time.sleep(0.2)
    return browser.eval("""[...document.querySelectorAll('.search-result')].map(li => {
        const a = li.querySelector('a');
        return {title: a.textContent, lang: a.lang, href: a.href,
                excerpt: (li.querySelector('.search-excerpt') || a).textContent,
                meta: li.querySelector('.entry-meta').textContent,
                marks: li.querySelectorAll('mark').length};
    })""")


@pytest.mark.parametrize("word, lang", [(TAMIL_WORD, "ta"), (SINHALA_WORD, "si")])
def test_search_finds_tamil_and_sinhala_entries(served, browser, word, lang):
    base, _, _ = served
    _view(browser, "desktop")
    results = _search(browser, base, "search.html", word)
    assert results, word
    hits = [r for r in results if r["lang"] == lang and (word in r["title"] or word in r["excerpt"])]
    assert hits, results
    assert any(r["marks"] for r in hits)  # the word is highlighted
    # the date as the site shows it (Asia/Colombo), not an ISO string
    assert "T00:00" not in hits[0]["meta"] and "2025" in hits[0]["meta"], hits[0]["meta"]
    _shot(browser, f"offline-search-{lang}")
    # the result leads to the entry on its day's page
    browser.goto(hits[0]["href"], settle=0.3)
    anchor = hits[0]["href"].split("#", 1)[1]
    text = browser.eval(f"document.getElementById({anchor!r}).textContent")
    assert word in text or hits[0]["title"] in text
    # filtered to another language, the same word finds nothing
    other = "en"
    assert _search(browser, base, "search.html", word, language=other) == []


def test_search_from_the_tamil_interface_finds_every_language(served, browser):
    base, _, _ = served
    results = _search(browser, base, "ui/ta/search.html", SINHALA_WORD)
    assert results and all(r["lang"] == "si" for r in results[:3])
    assert all("/ui/ta/archive/" in r["href"] for r in results), results  # stays in Tamil
    english = _search(browser, base, "ui/ta/search.html", "Jackson")
    assert english and english[0]["lang"] == "en"


AXE = axe_script()
if AXE is None and REQUIRED:
    raise RuntimeError("the accessibility tests need axe-core: bash scripts/test.sh installs it")

# one page of every type, from the offline example (real feeds) and the test site (failing,
# gone and moved feeds, a video, mixed-language titles)
OFFLINE_PAGES = ["index.html", "en/index.html", "ta/index.html", "si/index.html",
                 "en/page/1.html", "topics/index.html", "topics/crime/index.html",
                 "archive/index.html", "archive/2025-11-04.html", "feeds.html",
                 "feeds/ada.html", "search.html", "ui/ta/index.html", "ui/si/feeds.html",
                 "ui/si/search.html"]
TEST_SITE_PAGES = ["index.html", "archive/2024-06-03.html", "feeds.html", "feeds/virakesari.html",
                   "feeds/old-blog.html", "topics/sports/index.html", "ui/ta/index.html"]


@pytest.fixture(scope="module")
def test_site(served, tmp_path_factory):
    """The test site (render_data), built into the served folder's neighbour and served by a
    second ``aggregator`` web server (the same handler as ``serve``)."""
    import threading

    from aggregator.cli.serve import site_server
    from aggregator.render import build_site

    out = tmp_path_factory.mktemp("testsite") / "site"
    build_site(site_data(), site_config(out), now=NOW, extra_files={"opml.xml": "<opml/>"})
    httpd = site_server(out, "127.0.0.1", 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.skipif(AXE is None, reason="axe-core not installed (bash scripts/test.sh)")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation_on_any_page_type(served, test_site, browser, scheme):
    base, _, _ = served
    _view(browser, "desktop", scheme)
    found = {}
    for page in OFFLINE_PAGES:
        browser.goto(f"{base}/{page}", settle=0.2)
        found[f"offline/{page}"] = violations(browser, AXE)
    for page in TEST_SITE_PAGES:
        browser.goto(f"{test_site}/{page}", settle=0.2)
        found[f"test-site/{page}"] = violations(browser, AXE)
    # the search page with its results shown, and a phone's front page
    _search(browser, base, "search.html", TAMIL_WORD)
    found["offline/search.html (results)"] = violations(browser, AXE)
    _view(browser, "phone", scheme)
    browser.goto(f"{base}/index.html", settle=0.2)
    found["offline/index.html (phone)"] = violations(browser, AXE)
    browser.send("Emulation.clearDeviceMetricsOverride")
    assert len(found) == len(OFFLINE_PAGES) + len(TEST_SITE_PAGES) + 2
    assert not any(found.values()), "\n" + report({k: v for k, v in found.items() if v})


def test_axe_sees_a_violation_when_there_is_one(served, browser, tmp_path):
    """Control: the harness reports what axe finds (a bare text node in a list, the failure
    axe found on 15 pages before excerpts were fixed)."""
    if AXE is None:
        pytest.skip("axe-core not installed")
    base, _, site = served
    (site / "axe-control.html").write_text(
        '<!doctype html><html lang="en"><title>c</title><main><h1>c</h1>'
        "<ul><li>one</li>…</ul></main></html>", encoding="utf-8")
    browser.goto(f"{base}/axe-control.html", settle=0.1)
    assert [v["id"] for v in violations(browser, AXE)] == ["list"]


def test_serve_stops_on_ctrl_c_with_exit_130(served):
    _, proc, _ = served
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 130
    out = proc.stdout.read()
    assert "serving" in out and "http://127.0.0.1:" in out and "WARNING" not in out, out
