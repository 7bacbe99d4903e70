"""config.yaml loading: defaults, resolution, and errors that name the key."""

from pathlib import Path

import pytest

from aggregator.cli import main
from aggregator.config import load_config
from aggregator.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_configs_load():
    for name in ("config.yaml", "examples/offline.yaml"):
        config = load_config(ROOT / name)
        assert config.feeds, name
        assert len({f.id for f in config.feeds}) == len(config.feeds)
        assert {t.id for t in config.topics} >= {"politics", "sports"}
    offline = load_config(ROOT / "examples/offline.yaml")
    for feed in offline.feeds:
        assert feed.url.startswith("file://"), feed.url
        assert Path(feed.url[len("file://"):]).exists(), feed.url


def test_defaults_and_relative_paths(tmp_path):
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds/a.xml").write_text("<rss/>")
    config = load_config(write(tmp_path, "feeds:\n  - url: feeds/a.xml\n  - https://example.org/rss\n"))
    assert config.site.output == tmp_path / "site"
    assert config.storage.path == tmp_path / "aggregator.sqlite3"
    assert config.feeds[0].url == (tmp_path / "feeds/a.xml").as_uri()
    assert config.feeds[0].id == "a"
    assert config.feeds[1].name == "example.org"
    assert config.fetch.per_host == 2 and config.fetch.concurrency == 20
    assert config.fetch.timeout == 30 and config.fetch.max_bytes == 10_000_000


def test_durations(tmp_path):
    config = load_config(write(tmp_path, "fetch: {timeout: 45s, max_backoff: 2d}\nschedule: {interval: 15m}\n"))
    assert config.fetch.timeout == 45
    assert config.fetch.max_backoff == 2 * 86400
    assert config.schedule.interval == 900


@pytest.mark.parametrize("text, key, hint", [
    ("site:\n  titel: x\n", "site.titel", "did you mean 'title'"),
    ("feeds:\n  - url: https://a.org/f\n  - url: 'ftp://x'\n", "feeds[1].url", "for example"),
    ("feeds:\n  - name: no url\n", "feeds[0].url", "every feed needs a url"),
    ("feeds:\n  - {url: https://a.org/f, topics: [sprots]}\ntopics:\n  - {id: sports}\n",
     "feeds[0].topics[0]", "did you mean 'sports'"),
    ("fetch:\n  timeout: soon\n", "fetch.timeout", "30m"),
    ("fetch:\n  concurrency: 0\n", "fetch.concurrency", None),
    ("schedule:\n  cron: '61 * * * *'\n", "schedule.cron", None),
    ("site:\n  ui_language: fr\n", "site.ui_language", None),
    ("site:\n  timezone: Colombo\n", "site.timezone", "Asia/Colombo"),
    ("topics:\n  - {id: other}\n", "topics[0].id", "reserved"),
    ("feeds:\n  - https://a.org/f\n  - https://a.org/f\n", "feeds[1].url", "remove one"),
    ("colour: blue\n", "colour", "allowed keys"),
])
def test_bad_config_names_key(tmp_path, text, key, hint):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert str(path) in str(info.value)
    if hint:
        assert hint in (info.value.hint or "")


def test_unknown_key_reports_line(tmp_path):
    path = write(tmp_path, "# comment\nsite:\n  title: x\n  outptu: y\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:4" in str(info.value)


def test_invalid_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "site: [\n"))
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_check_command_exit_codes(tmp_path, capsys):
    good = write(tmp_path, "feeds:\n  - https://example.org/rss\n")
    assert main(["check", "--config", str(good)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("feeds:\n  - url: 3\n", encoding="utf-8")
    assert main(["check", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "feeds[0].url" in err and str(bad) in err
    # --config before the command is not overridden by the command's default
    assert main(["--config", str(bad), "check"]) == 2


def test_timezone(tmp_path):
    assert load_config(write(tmp_path, "site: {timezone: Asia/Colombo}\n")).site.timezone == "Asia/Colombo"
    assert load_config(write(tmp_path, "site: {title: x}\n")).site.timezone == "UTC"


def test_shipped_configs_carry_the_default_taxonomy():
    from aggregator.topics import load_default_topics

    root = Path(__file__).resolve().parents[1]
    default_ids = [t.id for t in load_default_topics()]
    for name in ("config.yaml", "examples/offline.yaml"):
        config = load_config(root / name)
        assert [t.id for t in config.topics] == default_ids, name
        assert {"local", "world", "politics", "business", "sports", "entertainment", "science-tech",
                "crime", "health", "education"} == set(default_ids)
        assert all(set(t.names) >= {"en", "ta", "si"} for t in config.topics)
        # the shipped copies are the taxonomy the classifier's keywords were tuned with
        assert [{k: list(v) for k, v in t.keywords.items()} for t in config.topics] == \
            [{k: list(v) for k, v in t.keywords.items()} for t in load_default_topics()], name


@pytest.mark.parametrize("url, problem, hint", [
    ("htps//www.dinamani.com/stories.rss", "neither an http(s) URL nor an existing file",
     "did you mean https://www.dinamani.com/stories.rss?"),
    ("www.dinamani.com/stories.rss", "neither an http(s) URL nor an existing file",
     "did you mean https://www.dinamani.com/stories.rss?"),
    ("http://exa mple.com/feed", "not a valid http(s) URL", None),
    ("https://bad_host!.example/feed", "not a valid http(s) URL", None),
    ("https://example.org:99999/feed", "a bad port", None),
    ("feeds/missing.xml", "neither an http(s) URL nor an existing file", None),
    ("file:///nowhere/feed.xml", "neither an http(s) URL nor an existing file", None),
])
def test_feed_urls_that_cannot_be_fetched_are_refused(tmp_path, url, problem, hint):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, f"feeds:\n  - url: '{url}'\n"))
    assert info.value.key == "feeds[0].url" and problem in info.value.message
    if hint:
        assert info.value.hint == hint


def test_feed_urls_that_can_be_fetched_are_accepted(tmp_path):
    (tmp_path / "local.xml").write_text("<rss/>")
    config = load_config(write(tmp_path, "feeds:\n  - https://example.org/rss\n"
                                         "  - http://127.0.0.1:8080/feed\n"
                                         "  - https://தமிழ்.example/feed\n"
                                         "  - https://[::1]:8443/feed\n"
                                         "  - local.xml\n"))
    assert len(config.feeds) == 5


@pytest.mark.parametrize("text, key", [
    ("feeds:\n  - {url: 'https://a.org/f', language: xx}\n", "feeds[0].language"),
    ("site:\n  languages: [en, ta, qq]\n", "site.languages[2]"),
    ("topics:\n  - {id: t, keywords: {zz: [word]}}\n", "topics[0].keywords.zz"),
])
def test_unknown_language_codes_are_refused(tmp_path, text, key):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert info.value.key == key and "not a known language code" in info.value.message


def test_every_problem_of_the_file_is_reported(tmp_path, capsys):
    path = write(tmp_path, "site:\n  days: 0\n"
                           "feeds:\n"
                           "  - url: htps//www.dinamani.com/rss\n"
                           "  - url: https://ok.example/feed\n"
                           "    language: xx\n"
                           "  - url: http://exa mple.com/feed\n"
                           "    language: ta\n"
                           "fetch:\n  timeout: soon\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    keys = [e.key for e in info.value.errors]
    assert keys == ["site.days", "feeds[0].url", "feeds[1].language", "feeds[2].url",
                    "fetch.timeout"]  # in the order of the file's lines
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "5 problems" in err and all(k in err for k in keys)
    assert f"{path}:2: site.days" in err and f"{path}:4: feeds[0].url" in err


def test_check_warns_when_base_url_is_empty(tmp_path, capsys):
    assert main(["check", "--config", str(write(tmp_path, "feeds: []\n"))]) == 0
    captured = capsys.readouterr()
    assert "ok — 0 feeds, 0 topics" in captured.out
    assert "warning" in captured.err and "site.base_url is empty" in captured.err
    path = write(tmp_path, "site: {base_url: 'https://example.org/digest/'}\nfeeds: []\n")
    assert main(["check", "--config", str(path)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_postgresql_store_is_named_by_url(tmp_path):
    config = load_config(write(tmp_path, "storage:\n  url: postgresql://digest@db.example:5433/news\n"
                                         "  batch: 50\n  lease: 2m\n"))
    assert config.storage.url == "postgresql://digest@db.example:5433/news"
    assert (config.storage.batch, config.storage.lease) == (50, 120)
    assert load_config(write(tmp_path, "feeds: []\n")).storage.url is None  # SQLite by default


@pytest.mark.parametrize("storage, words", [
    ("{path: a.sqlite3, url: 'postgresql://u@h/db'}", "storage.path and storage.url are both set"),
    ("{url: 'mysql://u@h/db'}", "must start with postgresql://"),
    ("{url: 'postgresql://u@h'}", "names no database"),
    ("{url: 'postgresql://u@h/a/b'}", "more than one part"),
    ("{url: 'postgresql://u@h:port/db'}", "is not a valid URL"),
    ("{batch: 0}", "storage.batch: must be at least 1"),
    ("{lease: 2s}", "storage.lease: must be at least 5 seconds"),
    ("{lease: soon}", "storage.lease: is not a duration"),
    ("{urll: 'postgresql://u@h/db'}", "did you mean 'url'"),
])
def test_bad_storage_settings_name_the_key(tmp_path, storage, words):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, f"storage: {storage}\n"))
    assert words in str(info.value) and "storage." in str(info.value)
