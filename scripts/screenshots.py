"""Take the README's screenshots of the front page again, in headless Chromium.

    .venv/bin/aggregator run --config examples/offline.yaml
    .venv/bin/python scripts/screenshots.py examples/site      # -> docs/front-page*.png

The site is served on loopback (as ``aggregator serve`` would) and shot at desktop width
(1100 x 1000) and phone width (390 x 844), light scheme.
"""

from __future__ import annotations

import argparse
import base64
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from aggregator.cli.serve import site_server  # noqa: E402
from cdp import Browser, find_chromium  # noqa: E402

SHOTS = {"front-page": (1100, 1000), "front-page-phone": (390, 844)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=Path, help="a built site folder")
    ap.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs")
    args = ap.parse_args()
    chromium = find_chromium()
    if chromium is None:
        print("screenshots: needs Chromium (apt-get install chromium fonts-noto-core)",
              file=sys.stderr)
        return 2
    httpd = site_server(args.site, "127.0.0.1", 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    browser = Browser(chromium)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, (width, height) in SHOTS.items():
            browser.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                         deviceScaleFactor=1, mobile=width < 500)
            browser.goto(f"{base}/index.html", settle=1.0)
            png = base64.b64decode(browser.send("Page.captureScreenshot", format="png")["data"])
            (args.out / f"{name}.png").write_bytes(png)
            print(f"{args.out / name}.png ({len(png):,} bytes)")
    finally:
        browser.quit()
        httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
