"""axe-core in the browser tests: the accessibility engine, run inside Chromium over a page.

axe-core's own script (``axe.min.js``) comes from PyPI: ``axe-playwright-python`` ships it
inside its wheel. scripts/test.sh installs that wheel alone (``--no-deps``: the tests drive
Chromium through tests/cdp.py, not Playwright); the script is read from the installed package
without importing it.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

# WCAG 2.1 A and AA, and axe's best practices
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_script() -> str | None:
    """axe.min.js, or None when the package is not installed."""
    spec = importlib.util.find_spec("axe_playwright_python")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "axe.min.js"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None


def axe_version(script: str) -> str:
    head = script[:200]
    return head.split("axe v", 1)[1].split()[0] if "axe v" in head else "?"


def violations(browser, script: str) -> list[dict]:
    """axe's violations on the page the browser shows (rule id, impact, help, the nodes)."""
    # DevTools evaluation is not subject to the page's CSP (which allows no inline script)
    browser.send("Runtime.evaluate", expression=script)
    options = json.dumps({"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
    r = browser.send("Runtime.evaluate", awaitPromise=True, returnByValue=True, expression=f"""
        axe.run(document, {options}).then(res => res.violations.map(v => ({{
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => ({{target: n.target.join(' '),
                                                  summary: n.failureSummary}})),
            count: v.nodes.length}})))""")
    if "exceptionDetails" in r:
        raise RuntimeError(f"axe failed: {r['exceptionDetails']}")
    return r["result"]["value"]


def report(found: dict[str, list[dict]]) -> str:
    """Violations by page, readable in a test failure."""
    lines = []
    for page, vs in found.items():
        for v in vs:
            lines.append(f"{page}: {v['id']} ({v['impact']}, {v['count']} nodes): {v['help']}")
            for n in v["nodes"][:3]:
                lines.append(f"    {n['target']}: {n['summary'].splitlines()[-1].strip()}")
    return "\n".join(lines)
