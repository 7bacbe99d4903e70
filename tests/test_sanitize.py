"""sanitize: the allow-list, URL handling, text, excerpts and language marks."""

from __future__ import annotations

import pytest

from aggregator.language.blocklang import annotate_blocks, convert_legacy_blocks
from aggregator.markup.sanitize import excerpt_html, html_to_text, sanitize_html
from xss_check import executable_markup, payloads

BASE = "https://blog.example/2024/05/post.html"


@pytest.mark.parametrize("payload", payloads())
def test_payload_is_harmless(payload):
    for out in (sanitize_html(payload, BASE), sanitize_html(payload, None),
                excerpt_html(payload, 60),
                annotate_blocks(sanitize_html(payload, BASE), lambda t: "ta", "en"),
                # a converted legacy-font text is escaped like any text, whatever it turns into
                convert_legacy_blocks(sanitize_html(payload, BASE), lambda t: "bamini",
                                      lambda t, enc: t + "<script>alert(1)</script>")):
        assert executable_markup(out) == [], (payload, out)
        assert "javascript" not in out.lower() or "javascript:" not in out.lower().replace(" ", "")


def test_payload_corpus_is_large():
    assert len(payloads()) >= 60


def test_relative_urls_resolve_against_base():
    out = sanitize_html('<a href="../x.html">x</a><img src="/i.png" alt="i">', BASE)
    assert 'href="https://blog.example/2024/x.html"' in out
    assert 'src="https://blog.example/i.png"' in out


def test_relative_urls_without_base_are_dropped():
    out = sanitize_html('<a href="x.html">x</a><img src="i.png">', None)
    assert "x.html" not in out and "<img" not in out
    assert ">x</a>" in out


def test_protocol_relative_becomes_https():
    out = sanitize_html('<img src="//cdn.example/i.png">', None)
    assert 'src="https://cdn.example/i.png"' in out


def test_links_get_rel_and_images_lazy():
    out = sanitize_html('<a href="https://x.example/" rel="opener" target="_blank">x</a>'
                        '<img src="https://x.example/i.png" alt="A cat">', None)
    assert 'rel="noopener noreferrer nofollow"' in out
    assert "target" not in out
    assert 'loading="lazy"' in out and 'referrerpolicy="no-referrer"' in out
    assert 'alt="A cat"' in out


def test_image_without_alt_gets_empty_alt():
    assert 'alt=""' in sanitize_html('<img src="https://x.example/i.png">', None)


@pytest.mark.parametrize("src,expected", [
    ("https://www.youtube.com/embed/abc?start=3", "https://www.youtube.com/embed/abc?start=3"),
    ("//www.youtube.com/embed/abc", "https://www.youtube.com/embed/abc"),
    ("http://youtube.com/embed/abc", "https://www.youtube.com/embed/abc"),
    ("https://www.youtube-nocookie.com/embed/abc", "https://www.youtube-nocookie.com/embed/abc"),
    ("https://player.vimeo.com/video/123", "https://player.vimeo.com/video/123"),
])
def test_video_iframes_kept_sandboxed(src, expected):
    out = sanitize_html(f'<iframe src="{src}" width="560" height="315" frameborder="0" '
                        'allowfullscreen></iframe>', None)
    assert f'src="{expected.replace("&", "&amp;")}"' in out
    assert 'sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"' in out
    assert 'width="560"' in out and "frameborder" not in out


@pytest.mark.parametrize("src", ["https://evil.example/embed/x", "https://www.youtube.com/watch?v=x",
                                 "https://www.youtube.com.evil.example/embed/x",
                                 "https://user@www.youtube.com/embed/x", "javascript:alert(1)"])
def test_other_iframes_dropped(src):
    assert "<iframe" not in sanitize_html(f'<p>a</p><iframe src="{src}">fallback</iframe>', None)


def test_lang_and_dir_kept():
    out = sanitize_html('<p lang="ta" dir="ltr">தமிழ்</p><div lang="x y z">bad</div>', None)
    assert '<p dir="ltr" lang="ta">' in out
    assert "x y z" not in out


def test_style_and_classes_removed():
    out = sanitize_html('<p style="position:fixed" class="skip-link" id="main">x</p>', None)
    assert out == "<p>x</p>"


def test_text_is_escaped_not_lost():
    out = sanitize_html("<p>1 &lt; 2 &amp; 3 &gt; 2 — &quot;ok&quot;</p>", None)
    assert out == '<p>1 &lt; 2 &amp; 3 &gt; 2 — "ok"</p>'


def test_sanitize_is_idempotent():
    html = ('<p>Hi <a href="/x">l</a> <img src="a.png"> <iframe src="https://www.youtube.com/'
            'embed/a"></iframe></p>')
    once = sanitize_html(html, BASE)
    assert sanitize_html(once, None) == once


def test_sinhala_zwj_and_tamil_kept():
    text = "ශ්\u200dරී ලංකාව — தமிழ்"
    assert text in sanitize_html(f"<p>{text}</p>", None)


def test_html_to_text():
    assert html_to_text("<p>a &amp; b</p><p>c&nbsp;d<br>e</p><script>x()</script>") == "a & b c d e"
    assert html_to_text("plain   text\n here") == "plain text here"
    assert html_to_text("") == ""
    assert html_to_text("<b>தமிழ்</b><i>நாடு</i>") == "தமிழ்நாடு"


def test_excerpt_cuts_at_word_and_balances_tags():
    html = "<p>Hello world this is <b>a rather long text</b> with many words</p><p>more</p>"
    out = excerpt_html(html, 30)
    assert out.startswith("<p>Hello world this is <b>a rather")
    assert out.endswith("…</b></p>")
    assert "more" not in out
    assert html_to_text(out).count(" ") <= 6


def test_excerpt_short_text_unchanged():
    assert excerpt_html("<p>Short</p>", 100) == "<p>Short</p>"


def test_excerpt_keeps_first_image_only():
    html = ('<p><img src="https://x.example/1.png" alt="one">Text</p>'
            '<p><img src="https://x.example/2.png" alt="two">More</p>')
    out = excerpt_html(html, 300)
    assert "1.png" in out and "2.png" not in out and "More" in out


def test_excerpt_is_sanitised():
    out = excerpt_html('<p onclick="x()">a <script>b</script> c</p>', 100)
    assert out == "<p>a  c</p>"


def test_excerpt_tamil_cut_keeps_whole_words():
    words = ["தமிழ்நாடு", "அரசு", "புதிய", "திட்டம்", "அறிவிப்பு"] * 10
    out = excerpt_html("<p>" + " ".join(words) + "</p>", 40)
    body = html_to_text(out).rstrip("…")
    assert all(w in words for w in body.split())


def _script_lang(text: str) -> str | None:
    if any("\u0b80" <= c <= "\u0bff" for c in text):
        return "ta"
    if any("\u0d80" <= c <= "\u0dff" for c in text):
        return "si"
    return "en" if any(c.isalpha() for c in text) else None


def test_annotate_marks_other_language_blocks():
    html = "<p>English text</p><p>தமிழ் உரை</p><h2>ශ්\u200dරී ලංකා</h2>"
    out = annotate_blocks(html, _script_lang, "en")
    assert out == '<p>English text</p><p lang="ta">தமிழ் உரை</p><h2 lang="si">ශ්\u200dරී ලංකා</h2>'


def test_annotate_wraps_text_runs():
    html = "English run<br><br>தமிழ் <b>உரை</b><br/><br>more English"
    out = annotate_blocks(html, _script_lang, "en")
    assert out == 'English run<br><br><p lang="ta">தமிழ் <b>உரை</b></p><br><br>more English'


def test_annotate_looks_into_containers_and_lists():
    html = ("<div><p>x</p><p>தமிழ்</p></div><ul><li>தமிழ்</li><li>உரை</li></ul>"
            "<ol><li>one</li><li>இரண்டு</li></ol>")
    out = annotate_blocks(html, _script_lang, "en")
    assert '<div><p>x</p><p lang="ta">தமிழ்</p></div>' in out
    assert '<ul lang="ta">' in out
    assert '<ol><li>one</li><li lang="ta">இரண்டு</li></ol>' in out


def test_annotate_same_language_or_unsure_unchanged():
    html = '<p>English</p><p lang="fr">déjà marqué தமிழ்</p><p>1234</p>'
    assert annotate_blocks(html, _script_lang, "en") == html
    assert annotate_blocks("<p>தமிழ்</p>", lambda t: None, "en") == "<p>தமிழ்</p>"


def test_annotate_keeps_output_safe():
    html = sanitize_html('<p title="&quot;&gt;&lt;script&gt;">தமிழ் &lt;script&gt;</p>', None)
    out = annotate_blocks(html, _script_lang, "en")
    assert "<script" not in out and executable_markup(out) == []


def _legacy_of(text: str) -> str | None:
    return "bamini" if text.startswith("LEG") else None


def _upper(text: str, enc: str) -> str:
    assert enc == "bamini"
    return text.upper()


def test_legacy_blocks_are_converted_one_by_one():
    html = ("<p>LEG one <b>bold</b> <a href=\"https://x.example/\">link</a></p><p>English stays</p>"
            "<div>LEG two<br><br>Photo: agency</div><ul><li>LEG three</li><li>plain</li></ul>"
            "LEG top run<br>top English")
    out = convert_legacy_blocks(html, _legacy_of, _upper)
    assert out == ('<p>LEG ONE <b>BOLD</b> <a href="https://x.example/">LINK</a></p>'
                   "<p>English stays</p><div>LEG TWO<br><br>Photo: agency</div>"
                   "<ul><li>LEG THREE</li><li>plain</li></ul>LEG TOP RUN<br>top English")


def test_no_legacy_block_leaves_the_html_as_it_was():
    html = "<p>English <b>only</b></p>\n<p>and more</p>"
    assert convert_legacy_blocks(html, _legacy_of, _upper) is html


def test_annotate_marks_runs_in_another_language_inside_a_paragraph():
    from aggregator.language import word_spans

    html = ("<p>அமைச்சர் நேற்று press conference in\nColombo ஒன்றை நடத்தினார் &amp; சென்றார்.</p>"
            "<ul><li>The minister visited ශ්\u200dරී ලංකා ජාතික රෝහල today with officials</li></ul>"
            "<p>இன்று <a href=\"https://x.example/\">breaking</a> news from Colombo வந்தது</p>"
            "<p>Sri Lanka beat India by five wickets in Colombo tonight</p>")
    out = annotate_blocks(html, lambda t: None, "ta", word_spans)
    # offsets follow the page's text: the line break and the escaped ampersand stay as they were
    assert ('<p>அமைச்சர் நேற்று <span lang="en">press conference in\nColombo</span> ஒன்றை நடத்தினார் '
            '&amp; சென்றார்.</p>') in out
    # in a Tamil entry, every run of this block that is not Tamil is marked
    assert ('<li><span lang="en">The minister visited</span> <span lang="si">ශ්\u200dරී ලංකා ජාතික රෝහල</span> '
            '<span lang="en">today with officials</span></li>') in out
    # a run across a link is left unmarked; an English sentence in a Tamil entry gets no span
    assert '<p>இன்று <a href="https://x.example/">breaking</a> news from Colombo வந்தது</p>' in out
    assert "<p>Sri Lanka beat India by five wickets in Colombo tonight</p>" in out
    assert out.count("<span") == 4
    # runs in the block's own language are not marked
    out = annotate_blocks(html, lambda t: "en" if t.startswith("The") else None, "ta", word_spans)
    assert '<ul lang="en"><li>The minister visited <span lang="si">ශ්\u200dරී ලංකා ජාතික රෝහල</span> today' in out
