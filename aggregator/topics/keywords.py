"""Text normalisation, tokenising and keyword/category matching for topics.

Words are cut with the ``regex`` module's ``\\w``, which keeps Tamil and Sinhala words whole
(Python's ``re`` splits them at vowel signs). For matching, text is NFC-normalised, case-folded
and stripped of joiners and invisible characters (ZWJ/ZWNJ are dropped here, not in the stored
text: writers are inconsistent about ZWJ in ශ්‍රී / ක්‍රිකට්, so matching ignores it on both sides).

English keywords match whole words (plus a plural "s"/"es"); Tamil and Sinhala keywords match
as word prefixes so that one stem covers inflected forms (கிரிக்கெட் → கிரிக்கெட்டில்).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

import regex

from ..models import TopicDef

# ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen: invisible, and used inconsistently.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_WORD = regex.compile(r"\w+")
_TAMIL_OR_SINHALA = regex.compile(r"[\u0B80-\u0BFF\u0D80-\u0DFF]")


def normalize(text: str) -> str:
    """NFC, case-folded, invisible characters removed: the form every matcher works on."""
    return unicodedata.normalize("NFC", text).translate(_INVISIBLE).casefold()


def words(text: str) -> list[str]:
    """Words of ``text`` (normalised), Tamil and Sinhala words kept whole."""
    return _WORD.findall(normalize(text))


def _is_indic(s: str) -> bool:
    return _TAMIL_OR_SINHALA.search(s) is not None


@lru_cache(maxsize=4096)
def _keyword_pattern(keyword: str) -> "tuple[str, regex.Pattern[str]] | None":
    """(a word the text must contain for a match, the pattern) for ``keyword``."""
    parts = words(keyword)
    if not parts:
        return None
    if "/" in keyword or "." in keyword:  # "a/l", "u.s.": the punctuation is part of the word
        parts = normalize(keyword).split()
    body = r"\s+".join(regex.escape(p) for p in parts)
    if _is_indic(keyword):
        return parts[0], regex.compile(r"(?<!\w)" + body)  # prefix: inflected forms match
    return parts[0], regex.compile(r"(?<!\w)" + body + r"(?:s|es)?(?!\w)")


def keyword_in(keyword: str, text: str) -> bool:
    """Whether ``keyword`` occurs in ``text`` (already normalised), by the rules above."""
    compiled = _keyword_pattern(keyword)
    if compiled is None:
        return False
    needle, pat = compiled
    # the substring test is a cheap necessary condition; the pattern checks word edges
    return needle in text and pat.search(text) is not None


def match_keywords(topic: TopicDef, text: str) -> list[str]:
    """The topic's keywords (any language) found in ``text`` (already normalised), in order."""
    found = []
    for lang_words in topic.keywords.values():
        for kw in lang_words:
            if kw not in found and keyword_in(kw, text):
                found.append(kw)
    return found


# Category labels feeds use, mapped to the default topic ids. Keys are normalised.
CATEGORY_SYNONYMS: Mapping[str, str] = {
    # local
    "local": "local", "local news": "local", "sri lanka": "local", "srilanka": "local",
    "national": "local", "regional": "local", "provincial": "local",  # not plain "news": every feed uses it
    "உள்நாட்டு": "local", "உள்நாடு": "local", "இலங்கை": "local", "பிராந்திய": "local",
    "மாவட்ட": "local", "தமிழ்நாடு": "local", "தமிழகம்": "local",
    "දේශීය": "local", "ප්‍රාදේශීය": "local", "දේශීය පුවත්": "local",
    # world
    "world": "world", "international": "world", "foreign": "world", "global": "world",
    "asia": "world", "south asia": "world", "india": "world", "europe": "world",
    "middle east": "world", "africa": "world", "americas": "world", "us": "world",
    "உலகம்": "world", "உலக": "world", "சர்வதேச": "world", "இந்தியா": "world",
    "ලෝකය": "world", "විදෙස්": "world", "ජාත්‍යන්තර": "world", "ලෝක": "world",
    # politics
    "politics": "politics", "political": "politics", "election": "politics",
    "elections": "politics", "government": "politics", "parliament": "politics",
    "அரசியல்": "politics", "தேர்தல்": "politics",
    "දේශපාලන": "politics", "දේශපාලනය": "politics", "මැතිවරණ": "politics",
    # business
    "business": "business", "economy": "business", "finance": "business",
    "markets": "business", "market": "business", "money": "business", "economics": "business",
    "companies": "business", "trade": "business",
    "வணிகம்": "business", "வர்த்தகம்": "business", "பொருளாதாரம்": "business",
    "நிதி": "business", "வணிக": "business",
    "ව්‍යාපාර": "business", "ආර්ථිකය": "business", "ආර්ථික": "business", "වාණිජ": "business",
    # sports
    "sport": "sports", "sports": "sports", "cricket": "sports", "football": "sports",
    "rugby": "sports", "tennis": "sports", "athletics": "sports",
    "விளையாட்டு": "sports", "கிரிக்கெட்": "sports",
    "ක්‍රීඩා": "sports", "ක්‍රීඩාව": "sports", "ක්‍රිකට්": "sports",
    # entertainment
    "entertainment": "entertainment", "cinema": "entertainment", "movies": "entertainment",
    "movie": "entertainment", "film": "entertainment", "films": "entertainment",
    "music": "entertainment", "celebrity": "entertainment", "gossip": "entertainment",
    "arts": "entertainment", "culture": "entertainment", "lifestyle": "entertainment",
    "சினிமா": "entertainment", "பொழுதுபோக்கு": "entertainment", "திரைப்படம்": "entertainment",
    "கலை": "entertainment",
    "විනෝදාස්වාදය": "entertainment", "සිනමා": "entertainment", "කලා": "entertainment",
    "සංගීත": "entertainment", "ගොසිප්": "entertainment", "චිත්‍රපට": "entertainment",
    # science-tech
    "tech": "science-tech", "technology": "science-tech", "science": "science-tech",
    "sci/tech": "science-tech", "science & technology": "science-tech",
    "science and technology": "science-tech", "gadgets": "science-tech", "it": "science-tech",
    "programming": "science-tech", "software": "science-tech", "space": "science-tech",
    "அறிவியல்": "science-tech", "தொழில்நுட்பம்": "science-tech",
    "விஞ்ஞானம்": "science-tech",
    "තාක්ෂණය": "science-tech", "විද්‍යාව": "science-tech", "තාක්ෂණ": "science-tech",
    # crime
    "crime": "crime", "crimes": "crime", "court": "crime", "courts": "crime",
    "police": "crime", "law": "crime",
    "குற்றம்": "crime", "க்ரைம்": "crime", "குற்றச்செய்திகள்": "crime",
    "අපරාධ": "crime", "අපරාධය": "crime", "පොලිස්": "crime",
    # health
    "health": "health", "medicine": "health", "wellness": "health", "covid": "health",
    "covid-19": "health", "coronavirus": "health",
    "சுகாதாரம்": "health", "மருத்துவம்": "health", "ஆரோக்கியம்": "health",
    "සෞඛ්‍ය": "health", "සෞඛ්‍යය": "health",
    # education
    "education": "education", "schools": "education", "university": "education",
    "exams": "education", "jobs": "education", "careers": "education",
    "கல்வி": "education", "வேலைவாய்ப்பு": "education",
    "අධ්‍යාපන": "education", "අධ්‍යාපනය": "education",
}
CATEGORY_SYNONYMS = {normalize(k): v for k, v in CATEGORY_SYNONYMS.items()}


def category_topic(category: str, topics: Sequence[TopicDef]) -> str | None:
    """The configured topic a feed category names, or None.

    Tried in order: the topic ids, their names in any language, their keywords (whole
    category text), then the built-in synonym map (used only when it points at a configured id).
    """
    cat = normalize(category).strip(" #/-_:")
    if not cat:
        return None
    slug = regex.sub(r"[\s_]+", "-", cat)
    ids = {t.id for t in topics}
    for t in topics:
        if slug == t.id:
            return t.id
    for t in topics:
        if any(cat == normalize(n) for n in t.names.values()):
            return t.id
    for t in topics:
        if any(cat == normalize(k) for ws in t.keywords.values() for k in ws):
            return t.id
    syn = CATEGORY_SYNONYMS.get(cat)
    if syn is None:
        # "Sports News", "Cricket - Sri Lanka": try each word, then a prefix for Tamil/Sinhala.
        for w in words(cat):
            syn = CATEGORY_SYNONYMS.get(w)
            if syn is None and _is_indic(w):
                syn = next((v for k, v in CATEGORY_SYNONYMS.items()
                            if _is_indic(k) and len(k) >= 3 and w.startswith(k)), None)
            if syn in ids:
                break
    return syn if syn in ids else None


def categories_topic(categories: Iterable[str], topics: Sequence[TopicDef]) -> tuple[str, str] | None:
    """(topic id, the category that decided) for the first category that maps, or None."""
    for c in categories:
        tid = category_topic(c, topics)
        if tid is not None:
            return tid, c
    return None


# Sri Lanka itself, its districts and larger towns (English, Tamil, Sinhala). The classifier
# learned "world" from Indian Tamil news, where Sri Lanka is abroad; for our readers a story set
# in Mannar or Kurunegala, or about aid arriving in Sri Lanka, is home news. Names that are common
# words (Galle is காலி, "empty") are left out of the Tamil list. Tamil and Sinhala names match as
# word prefixes, like the keywords (இலங்கை also matches இலங்கைக்கு, இலங்கையர்).
SRI_LANKA_PLACES: tuple[str, ...] = (
    "sri lanka", "sri lankan", "sri lankans", "ceylon",
    "colombo", "gampaha", "kalutara", "kandy", "matale", "nuwara eliya", "galle", "matara",
    "hambantota", "jaffna", "kilinochchi", "mannar", "vavuniya", "mullaitivu", "batticaloa",
    "ampara", "trincomalee", "kurunegala", "puttalam", "anuradhapura", "polonnaruwa", "badulla",
    "monaragala", "moneragala", "ratnapura", "kegalle", "negombo", "tangalle", "chilaw", "hatton",
    "dehiwala", "mount lavinia", "moratuwa", "kotte", "maharagama", "nugegoda", "narahenpita",
    "kelaniya", "wattala", "panadura", "beruwala", "ambalangoda", "hikkaduwa", "weligama",
    "embilipitiya", "balangoda", "bandarawela", "dambulla", "peradeniya", "gampola", "katunayake",
    "kantale", "kalmunai", "kattankudy", "point pedro", "chavakachcheri", "kankesanthurai",
    "kotmale", "haldummulla", "kadugannawa", "welimada", "maskeliya", "talawakelle", "nawalapitiya",
    "avissawella", "horana", "kotahena", "borella", "wellawatte", "kolonnawa", "kaduwela", "homagama",
    "piliyandala", "kinniya", "muttur", "valaichenai", "sammanthurai", "karainagar", "neduntheevu",
    "punkudutivu", "mahiyanganaya", "kataragama",
    "இலங்கை", "ஸ்ரீலங்கா",
    "கொழும்ப", "கம்பஹா", "களுத்துறை", "கண்டி", "மாத்தளை", "நுவரெலியா", "மாத்தறை", "அம்பாந்தோட்டை",
    "யாழ்ப்பாண", "யாழ்", "கிளிநொச்சி", "மன்னார்", "வவுனியா", "முல்லைத்தீவ", "மட்டக்களப்ப", "அம்பாறை",
    "திருகோணமலை", "குருணாகல", "குருநாகல", "புத்தளம", "அநுராதபுர", "அனுராதபுர", "பொலன்னறுவை",
    "பதுளை", "மொனராகலை", "இரத்தினபுரி", "கேகாலை", "நீர்கொழும்ப", "தங்காலை", "ஹட்டன்",
    "தெஹிவளை", "மொரட்டுவ", "கல்முனை", "காத்தான்குடி", "ஏறாவூர்", "அக்கரைப்பற்று", "பருத்தித்துறை",
    "சாவகச்சேரி", "காங்கேசன்துறை", "வல்வெட்டித்துறை", "பேராதனை", "கம்பளை", "தம்புள்ள", "பண்டாரவளை",
    "கொத்மலை", "ஹல்துமுல்ல", "கடுகண்ணாவ", "வெலிமடை", "மஸ்கெலியா", "தலவாக்கலை", "நாவலப்பிட்டி",
    "அவிசாவளை", "ஹொரணை", "கொட்டாஞ்சேனை", "பொரளை", "வெள்ளவத்தை", "கொலன்னாவை", "கடுவலை", "ஹோமாகம",
    "கிண்ணியா", "மூதூர்", "வாழைச்சேனை", "சம்மாந்துறை", "காரைநகர்", "நெடுந்தீவ", "புங்குடுதீவ",
    "மஹியங்கனை", "கதிர்காம",
    "ශ්‍රී ලංකා", "ලංකාව", "ලාංකික",
    "කොළඹ", "ගම්පහ", "කළුතර", "මහනුවර", "මාතලේ", "නුවරඑළිය", "ගාල්ල", "මාතර", "හම්බන්තොට",
    "යාපනය", "කිලිනොච්චි", "මන්නාරම", "වවුනියාව", "මුලතිව්", "මඩකලපුව", "අම්පාර", "ත්‍රිකුණාමලය",
    "කුරුණෑගල", "පුත්තලම", "අනුරාධපුර", "පොළොන්නරුව", "බදුල්ල", "මොණරාගල", "රත්නපුර", "කෑගල්ල",
    "මීගමුව", "හලාවත", "තංගල්ල", "හැටන්",
    "දෙහිවල", "මොරටුව", "කෝට්ටේ", "මහරගම", "නුගේගොඩ", "නාරාහේන්පිට", "කැළණිය", "වත්තල", "පානදුර",
    "බේරුවල", "අම්බලන්ගොඩ", "හික්කඩුව", "වැලිගම", "ඇඹිලිපිටිය", "බලන්ගොඩ", "බණ්ඩාරවෙල", "දඹුල්ල",
    "පේරාදෙණිය", "ගම්පොළ", "කටුනායක", "කන්තලේ",
    "කොත්මලේ", "හල්දුම්මුල්ල", "කඩුගන්නාව", "වැලිමඩ", "මස්කෙළිය", "තලවකැලේ", "නාවලපිටිය",
    "අවිස්සාවේල්ල", "හොරණ", "කොටහේන", "බොරැල්ල", "වැල්ලවත්ත", "කොලොන්නාව", "කඩුවෙල", "හෝමාගම",
    "පිළියන්දල", "කින්නියා", "මූදූර්", "මහියංගනය", "කතරගම",
)


def sri_lankan_place(text: str) -> str | None:
    """The first Sri Lankan district or town named in ``text`` (already normalised), if any."""
    return next((name for name in SRI_LANKA_PLACES if keyword_in(name, text)), None)
