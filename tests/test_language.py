"""aggregator.language: accuracy floors on a small shipped sample, normalisation, legacy fonts,
hints, segments, other languages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from aggregator.language import detect, detection_to_dict, normalize, normalize_tag, split_blocks_langs
from aggregator.language.legacy import (
    bamini_to_unicode, fm_to_unicode, tscii_to_unicode, unicode_to_bamini, unicode_to_fm, unicode_to_tscii,
)
from aggregator.models import Detection

SAMPLE = Path(__file__).resolve().parent / "data" / "langid" / "sample.jsonl"
FLOORS = {"title": 0.97, "sentence": 0.99, "paragraph": 0.99, "romanized": 0.85, "legacyfont": 0.95}


def test_sample_accuracy_per_kind():
    rows = [json.loads(line) for line in SAMPLE.open(encoding="utf-8")]
    by_kind = defaultdict(lambda: [0, 0])
    for r in rows:
        d = detect(r["text"])
        by_kind[r["kind"]][0] += d.lang == r["lang"]
        by_kind[r["kind"]][1] += 1
    assert set(by_kind) == set(FLOORS)
    for kind, (ok, n) in by_kind.items():
        assert ok / n >= FLOORS[kind], f"{kind}: {ok}/{n}"


def test_sample_legacy_conversion_matches_reference():
    rows = [json.loads(line) for line in SAMPLE.open(encoding="utf-8") if '"unicode"' in line]
    assert rows
    for r in rows:
        d = detect(r["text"])
        assert d.legacy_encoding in ("tscii", "fm-abhaya")
        assert normalize(d.text) == normalize(r["unicode"])


def test_normalize_keeps_zwj_drops_soft_hyphen_and_zwsp():
    assert normalize("ශ්\u200dරී ලංකාව") == "ශ්\u200dරී ලංකාව"
    assert normalize("\u200bதமி\u00adழ்  நாடு\ufeff") == "தமிழ் நாடு"
    assert normalize("a\u200db") == "ab"  # a joiner between Latin letters is noise
    assert normalize("e\u0301") == "\u00e9"  # NFC
    assert normalize("one\n\n\ntwo  three") == "one\n\ntwo three"


def test_normalize_tag():
    assert normalize_tag("en-US") == "en"
    assert normalize_tag("TA") == "ta"
    assert normalize_tag("si_LK") == "si"
    assert normalize_tag("sinhala") == "si"
    assert normalize_tag("tam") == "ta"
    assert normalize_tag("x-foo") is None
    assert normalize_tag("") is None
    assert normalize_tag(None) is None


@pytest.mark.parametrize("unicode,bamini", [
    ("தமிழ்", "jkpo;"), ("வணக்கம்", "tzf;fk;"), ("கொழும்பு", "nfhOk;G"), ("கோயில்", "Nfhapy;"),
    ("இலங்கை", ",yq;if"), ("சூரியன்", "#upad;"),
])
def test_bamini_known_pairs(unicode, bamini):
    assert bamini_to_unicode(bamini) == unicode
    assert unicode_to_bamini(unicode) == bamini


def test_tscii_and_fm_known_pairs_and_round_trips():
    assert tscii_to_unicode("¾Á¢ú") == "தமிழ்"
    assert tscii_to_unicode("§¸¡Â¢ø") == "கோயில்"
    assert fm_to_unicode("isxy,") == "සිංහල"
    assert fm_to_unicode("Y%S ,xldj") == "ශ්\u200dරී ලංකාව"
    for t in ("பொன்னாடை கௌரவம் க்ஷேத்திரம் தூய", "இலங்கைத் தமிழ்க் காங்கிரஸ்"):
        assert bamini_to_unicode(unicode_to_bamini(t)) == t
        assert tscii_to_unicode(unicode_to_tscii(t)) == t
    for t in ("ප්\u200dරමාණයකට කෝණමිතික වෛද්\u200dය ශ්\u200dරේණි", "රුපියල් සෞඛ්\u200dය මෙහෙවර"):
        assert fm_to_unicode(unicode_to_fm(t)) == t


def test_detect_legacy_text_is_converted():
    d = detect("If;fpa Njrpa Rje;jpu Kd;dzp")
    assert (d.lang, d.legacy_encoding, d.script) == ("ta", "bamini", "Taml")
    assert d.text == "ஐக்கிய தேசிய சுதந்திர முன்னணி"
    d = detect("ÁÐ¨Ã ¾Á¢ú þÄì¸¢Â Á¢ýÀ¾¢ôÒò ¾¢ð¼õ")
    assert (d.lang, d.legacy_encoding) == ("ta", "tscii")
    assert d.text == "மதுரை தமிழ் இலக்கிய மின்பதிப்புத் திட்டம்"
    d = detect(";x lsiai fy;=@ wmß[a[d;x ;iaid’;s jodñ")
    assert (d.lang, d.legacy_encoding) == ("si", "fm-abhaya")


def test_plain_english_with_semicolons_is_not_legacy():
    d = detect("The minister said; however, the bill was passed [with changes] by 120 votes.")
    assert d.lang == "en" and d.legacy_encoding is None


def test_mixed_script_title_counts_by_meaning():
    assert detect("பொதுமக்களுக்கு SLAF அறிவுறுத்தல்").lang == "ta"
    assert detect("SDF ඉහළ ප්‍රතිලාභ සහිත ප්‍රථම තිරසාර බැඳුම්කරය නිකුත් කරයි").lang == "si"
    d = detect("Sk அண்ணா fans hit like here")
    assert d.lang == "ta"


def test_romanized_tamil_and_sinhala():
    d = detect("naan unga periya fan anna, padam semma ah irukku")
    assert (d.lang, d.romanized, d.script) == ("ta", True, "Latn")
    d = detect("mta eka prshnyk nisa mma oyta kiwwe")
    assert (d.lang, d.romanized) == ("si", True)
    d = detect("The government announced new measures to support farmers this week.")
    assert (d.lang, d.romanized) == ("en", False)


def test_hint_is_only_a_prior():
    tamil = "இலங்கையில் இன்று கடும் மழை பெய்தது"
    assert detect(tamil, hint="en-US").lang == "ta"  # Blogger declares en-US over Tamil posts
    english = "Heavy rain lashed the island today, the weather office said."
    assert detect(english, hint="ta").lang == "en"
    assert detect("OK", hint="si").lang == "si"  # too little signal: the hint decides
    assert detect("OK", hint="x-foo").lang != "si"
    assert detect(tamil, hint="x-foo").lang == "ta"


def test_segments_of_mixed_english_tamil_sinhala():
    en = "The weather office issued a warning for heavy rain in several districts today."
    ta = "பல மாவட்டங்களில் இன்று கடும் மழை பெய்யும் என வளிமண்டலவியல் திணைக்களம் எச்சரித்துள்ளது."
    si = "අද දින දිස්ත්‍රික්ක කිහිපයකට තද වැසි ඇති වන බව කාලගුණ විද්‍යා දෙපාර්තමේන්තුව පවසයි."
    text = f"{en}\n\n{ta}\n\n{si}"
    d = detect(text)
    assert [s.lang for s in d.segments] == ["en", "ta", "si"]
    assert [d.text[s.start:s.end] for s in d.segments] == [en, ta, si]
    assert d.lang in ("ta", "si", "en")
    assert detect(ta).segments == ()


def test_other_languages_are_named():
    assert detect("Die Bundesregierung hat heute neue Maßnahmen für die Wirtschaft beschlossen.").lang == "de"
    d = detect("भारत सरकार ने आज नई आर्थिक नीतियों की घोषणा की है।")
    assert (d.lang, d.script) == ("hi", "Deva")
    assert detect("abe ye kaun hai aur itna kyun bol raha hai").lang != "ta"


@pytest.mark.parametrize("text", ["", "   ", "...!!! ---", "12 345", "🙂🙂"])
def test_und_without_letters(text):
    d = detect(text)
    assert d.lang == "und" and d.confidence == 0.0


def test_detection_to_dict_and_blocks():
    d = detect("தமிழ் செய்தி")
    assert isinstance(d, Detection)
    out = detection_to_dict(d)
    assert set(out) == {"lang", "confidence", "script", "romanized", "legacy_encoding", "segments"}
    assert out["lang"] == "ta" and out["segments"] == []
    assert split_blocks_langs(["English words are here today.", "...", "தமிழ் செய்தி இன்று"], "en") == [
        "en", "en", "ta"]


def test_import_is_light():
    code = ("import time, sys; t=time.perf_counter(); import aggregator.language; "
            "print(time.perf_counter()-t, 'langdetect' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert float(out[0]) <= 0.3
    assert out[1] == "False"
