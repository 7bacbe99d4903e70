"""Render benchmark: a full build of 20,000 synthetic entries in en/ta/si, then an incremental
build after one new entry. Prints both times, the page counts and peak memory.

    .venv/bin/python benchmarks/render.py [--entries 20000] [--days 200] [--feeds 30]

The incremental build must stay at or under 5 % of the full one: pages whose inputs did not
change are not rendered (a manifest of input fingerprints in the output folder), pages whose
bytes did not change are not rewritten, and pagination counts from the oldest end so one new
entry changes only the first page of each listing that holds it.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.config import SiteConfig  # noqa: E402
from aggregator.models import Entry, FeedSource, FeedState, FeedView, SiteData, TopicDef  # noqa: E402
from aggregator.render import build_site  # noqa: E402

NOW = datetime(2024, 6, 3, 12, 0, tzinfo=timezone.utc)
WORDS = {
    "en": "government budget cricket match election minister court police school health "
          "market price rain flood festival film music team win loss report".split(),
    "ta": "அரசு வரவு செலவுத் திட்டம் கிரிக்கெட் போட்டி தேர்தல் அமைச்சர் நீதிமன்றம் பொலிஸ் "
          "பாடசாலை சுகாதாரம் சந்தை விலை மழை வெள்ளம் திருவிழா திரைப்படம்".split(),
    "si": "රජය අයවැය ක්‍රිකට් තරගය මැතිවරණය ඇමති අධිකරණය පොලිසිය පාසල සෞඛ්‍ය වෙළඳපොළ "
          "මිල වැස්ස ගංවතුර උත්සවය චිත්‍රපටය".split(),
}
TOPICS = tuple(TopicDef(id=t, names={"en": t.title(), "ta": t, "si": t})
               for t in ("local", "world", "politics", "business", "sports", "entertainment"))


def synthetic(n: int, days: int, nfeeds: int, seed: int = 7) -> SiteData:
    rnd = random.Random(seed)
    langs = ("en", "ta", "si")
    feeds = tuple(FeedView(FeedSource(id=f"feed-{i}", url=f"https://f{i}.example/rss",
                                      name=f"Feed {i}", language=langs[i % 3]),
                           FeedState(feed_id=f"feed-{i}", url=f"https://f{i}.example/rss",
                                     language=langs[i % 3], last_attempt=NOW, last_success=NOW))
                  for i in range(nfeeds))
    entries = []
    span = days * 86400
    for i in range(n):
        f = i % nfeeds
        lang = langs[f % 3]
        words = WORDS[lang]
        title = " ".join(rnd.choice(words) for _ in range(rnd.randint(4, 9)))
        text = " ".join(rnd.choice(words) for _ in range(rnd.randint(30, 60)))
        topic = rnd.choice([t.id for t in TOPICS] + ["other"])
        entries.append(Entry(
            feed_id=f"feed-{f}", guid=f"e{i}", title=title, link=f"https://f{f}.example/{i}",
            summary_html=f"<p>{text}</p>", content_html="", author=f"Author {i % 50}",
            published=NOW - timedelta(seconds=rnd.randint(0, span)), lang=lang,
            lang_confidence=0.99, topic=topic,
            story=f"s{i // 3}" if i % 10 == 0 else None))
    entries.sort(key=lambda e: e.published, reverse=True)
    return SiteData(entries=tuple(entries), feeds=feeds, topics=TOPICS, generated_at=NOW)


def timed(data: SiteData, site: SiteConfig):
    t = time.perf_counter()
    result = build_site(data, site, now=NOW)
    return time.perf_counter() - t, result


def phase(args, out: Path, which: str) -> None:
    """One build in this process; prints time, counts and this process's peak RSS."""
    data = synthetic(args.entries, args.days, args.feeds)
    if which != "full":
        new = replace(data.entries[0], guid="new-entry", title="A brand new entry",
                      published=NOW - timedelta(minutes=1))
        data = replace(data, entries=(new, *data.entries))
    site = SiteConfig(title="Benchmark", output=out, per_page=args.per_page)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    elapsed, r = timed(data, site)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "rendered": r.pages_rendered, "written": r.pages_written,
                      "kept": r.pages_unchanged, "peak_mib": peak / 1024,
                      "data_mib": base / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=200, help="days the entries are spread over")
    ap.add_argument("--feeds", type=int, default=30)
    ap.add_argument("--per-page", type=int, default=50)
    ap.add_argument("--phase", choices=["full", "incremental", "same"], help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        phase(args, Path(args.out), args.phase)
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        # each build in a fresh process, so peak memory is that build's (and the data's)
        for which in ("full", "incremental", "same"):
            cmd = [sys.executable, __file__, "--phase", which, "--out", str(Path(tmp) / "site"),
                   "--entries", str(args.entries), "--days", str(args.days),
                   "--feeds", str(args.feeds), "--per-page", str(args.per_page)]
            line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            results[which] = json.loads(line.strip().splitlines()[-1])
    f, i, s = results["full"], results["incremental"], results["same"]
    print(f"entries: {args.entries} in 3 languages over {args.days} days, {args.feeds} feeds, "
          f"per_page {args.per_page}, 3 interface languages")
    print(f"full render:        {f['seconds']:7.2f} s  {f['rendered']} pages rendered, "
          f"{f['written']} files written; peak RSS {f['peak_mib']:.0f} MiB "
          f"(of which {f['data_mib']:.0f} MiB interpreter + synthetic data)")
    print(f"incremental render: {i['seconds']:7.2f} s  {i['rendered']} pages rendered, "
          f"{i['written']} files written, {i['kept']} kept; peak RSS {i['peak_mib']:.0f} MiB")
    print(f"no-change render:   {s['seconds']:7.2f} s  {s['rendered']} pages rendered")
    print(f"incremental / full: {100 * i['seconds'] / f['seconds']:.1f} % (target <= 5 %)")


if __name__ == "__main__":
    main()
