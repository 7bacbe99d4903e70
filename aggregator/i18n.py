"""Interface strings in English, Tamil and Sinhala, and Babel formatting for dates and numbers.

Only the site's own words live here; entry text is never translated. A ``Translator`` is bound
to one interface language and one time zone: ``tr("read_more")``, ``tr.date(d)``,
``tr.time(dt)``, ``tr.number(n)``, ``tr.language(code)``.

Where CLDR's choice reads oddly to our readers we override it, and say why:
- Sinhala months: CLDR ``si`` uses the traditional lunar month names (දුරුතු, නවම්...) for the
  Gregorian months; Sri Lankan newspapers and sites write ජනවාරි, පෙබරවාරි..., so we do too.
- Tamil times: CLDR ``ta`` prints "2:05 PM"; Tamil sites write the day period in Tamil
  ("பிற்பகல் 2:05"), which is CLDR's flexible day period pattern ``B h:mm``.
"""

from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

UI_LANGUAGES = ("en", "ta", "si")

STRINGS: dict[str, dict[str, str]] = {
    "skip": {"en": "Skip to content", "ta": "உள்ளடக்கத்துக்குச் செல்க",
             "si": "අන්තර්ගතයට යන්න"},
    "main_nav": {"en": "Main navigation", "ta": "முதன்மை வழிசெலுத்தல்", "si": "ප්‍රධාන සංචාලනය"},
    "latest": {"en": "Latest", "ta": "சமீபத்தியவை", "si": "නවතම"},
    "topics": {"en": "Topics", "ta": "தலைப்புகள்", "si": "මාතෘකා"},
    "topic": {"en": "Topic", "ta": "தலைப்பு", "si": "මාතෘකාව"},
    "archive": {"en": "Archive", "ta": "காப்பகம்", "si": "සංරක්ෂිතය"},
    "sources": {"en": "Sources", "ta": "மூலங்கள்", "si": "මූලාශ්‍ර"},
    "languages": {"en": "Languages", "ta": "மொழிகள்", "si": "භාෂා"},
    "language": {"en": "Language", "ta": "மொழி", "si": "භාෂාව"},
    "interface_language": {"en": "Interface language", "ta": "இடைமுக மொழி",
                           "si": "අතුරුමුහුණතේ භාෂාව"},
    "read_more": {"en": "Read more", "ta": "மேலும் படிக்க", "si": "තවත් කියවන්න"},
    "read_original": {"en": "Read the original", "ta": "மூலப் பதிவைப் படிக்க",
                      "si": "මුල් ලිපිය කියවන්න"},
    "by": {"en": "by {author}", "ta": "எழுதியவர்: {author}", "si": "ලියූවේ: {author}"},
    "other_versions": {"en": "Also reported by", "ta": "இதே செய்தி பிற மூலங்களிலும்",
                       "si": "මෙම පුවත වෙනත් මූලාශ්‍රවලද"},
    "other": {"en": "Other", "ta": "பிற", "si": "වෙනත්"},
    "newer": {"en": "Newer entries", "ta": "புதிய பதிவுகள்", "si": "අලුත් ලිපි"},
    "older": {"en": "Older entries", "ta": "பழைய பதிவுகள்", "si": "පැරණි ලිපි"},
    "pagination": {"en": "Pages", "ta": "பக்கங்கள்", "si": "පිටු"},
    "prev_day": {"en": "Previous day", "ta": "முந்தைய நாள்", "si": "පෙර දිනය"},
    "next_day": {"en": "Next day", "ta": "அடுத்த நாள்", "si": "ඊළඟ දිනය"},
    "entries_in": {"en": "In {language}", "ta": "{language} பதிவுகள்", "si": "{language} ලිපි"},
    "language_page": {"en": "Entries in {language}", "ta": "{language} பதிவுகள்",
                      "si": "{language} ලිපි"},
    "feed_page": {"en": "Entries from {feed}", "ta": "{feed} வழங்கிய பதிவுகள்",
                  "si": "{feed} වෙතින් ලිපි"},
    "day_page": {"en": "Entries of {date}", "ta": "{date} பதிவுகள்", "si": "{date} ලිපි"},
    "nothing": {"en": "Nothing here yet.", "ta": "இங்கு இன்னும் எதுவும் இல்லை.",
                "si": "මෙහි තවම කිසිවක් නැත."},
    "feed": {"en": "Source", "ta": "மூலம்", "si": "මූලාශ්‍රය"},
    "last_update": {"en": "Last update", "ta": "கடைசியாகப் புதுப்பித்தது",
                    "si": "අවසන් යාවත්කාලීනය"},
    "status": {"en": "Status", "ta": "நிலை", "si": "තත්ත්වය"},
    "entries": {"en": "Entries", "ta": "பதிவுகள்", "si": "ලිපි"},
    "status_ok": {"en": "Working", "ta": "இயங்குகிறது", "si": "ක්‍රියා කරයි"},
    "status_gone": {"en": "Gone: the server says this feed no longer exists",
                    "ta": "நீக்கப்பட்டது: இந்த மூலம் இனி இல்லை என்று சேவையகம் கூறுகிறது",
                    "si": "ඉවත් කර ඇත: මෙම මූලාශ්‍රය තවදුරටත් නැති බව සේවාදායකය පවසයි"},
    "status_moved": {"en": "Moved to", "ta": "புதிய முகவரிக்கு மாற்றப்பட்டது:",
                     "si": "නව ලිපිනයකට ගෙන ගොස් ඇත:"},
    "status_new": {"en": "Not fetched yet", "ta": "இன்னும் பெறப்படவில்லை",
                   "si": "තවම ලබා ගෙන නැත"},
    "last_error": {"en": "Last error", "ta": "கடைசிப் பிழை", "si": "අවසන් දෝෂය"},
    # What failed, in words a reader understands (``models.ERROR_KINDS``); the error's own text
    # (paths, addresses) goes to the log and ``aggregator status`` only.
    "error_timeout": {"en": "the server did not answer in time",
                      "ta": "சேவையகம் உரிய நேரத்தில் பதிலளிக்கவில்லை",
                      "si": "සේවාදායකය නියමිත වේලාවට පිළිතුරු දුන්නේ නැත"},
    "error_dns": {"en": "the site's address could not be found",
                  "ta": "தளத்தின் முகவரியைக் கண்டறிய முடியவில்லை",
                  "si": "අඩවියේ ලිපිනය සොයාගත නොහැකි විය"},
    "error_refused": {"en": "the server refused the connection",
                      "ta": "சேவையகம் இணைப்பை மறுத்தது",
                      "si": "සේවාදායකය සම්බන්ධතාවය ප්‍රතික්ෂේප කළේය"},
    "error_connect": {"en": "the server could not be reached",
                      "ta": "சேவையகத்தை அணுக முடியவில்லை",
                      "si": "සේවාදායකයට සම්බන්ධ විය නොහැකි විය"},
    "error_tls": {"en": "the secure connection to the server failed",
                  "ta": "சேவையகத்துடனான பாதுகாப்பான இணைப்பு தோல்வியடைந்தது",
                  "si": "සේවාදායකය සමඟ ආරක්ෂිත සම්බන්ධතාවය අසාර්ථක විය"},
    "error_http": {"en": "the server answered with an error (HTTP {status})",
                   "ta": "சேவையகம் பிழையுடன் பதிலளித்தது (HTTP {status})",
                   "si": "සේවාදායකය දෝෂයකින් පිළිතුරු දුන්නේය (HTTP {status})"},
    "error_gone": {"en": "the server says this feed no longer exists",
                   "ta": "இந்த மூலம் இனி இல்லை என்று சேவையகம் கூறுகிறது",
                   "si": "මෙම මූලාශ්‍රය තවදුරටත් නැති බව සේවාදායකය පවසයි"},
    "error_too-large": {"en": "the feed is larger than this site accepts",
                        "ta": "இந்த மூலம் இத்தளம் ஏற்கும் அளவைவிடப் பெரியது",
                        "si": "මෙම මූලාශ්‍රය මෙම අඩවිය පිළිගන්නා ප්‍රමාණයට වඩා විශාලයි"},
    "error_redirect": {"en": "the feed's address leads nowhere (a broken redirect)",
                       "ta": "மூலத்தின் முகவரி எங்கும் இட்டுச் செல்லவில்லை (உடைந்த திசைதிருப்பல்)",
                       "si": "මූලාශ්‍රයේ ලිපිනය කොතැනකටවත් නොයයි (බිඳුණු යළි-යොමුවක්)"},
    "error_blocked": {"en": "the feed pointed to an address this site does not follow",
                      "ta": "இத்தளம் பின்தொடராத முகவரிக்கு மூலம் திருப்பியது",
                      "si": "මෙම අඩවිය අනුගමනය නොකරන ලිපිනයකට මූලාශ්‍රය යොමු කළේය"},
    "error_not-a-feed": {"en": "the address does not give a readable feed",
                         "ta": "இந்த முகவரியில் படிக்கக்கூடிய செய்தியோடை இல்லை",
                         "si": "මෙම ලිපිනයෙන් කියවිය හැකි පෝෂකයක් නොලැබේ"},
    "error_file": {"en": "the feed's file could not be read",
                   "ta": "மூலத்தின் கோப்பைப் படிக்க முடியவில்லை",
                   "si": "මූලාශ්‍රයේ ගොනුව කියවිය නොහැකි විය"},
    "error_store": {"en": "its entries could not be stored",
                    "ta": "அதன் பதிவுகளைச் சேமிக்க முடியவில்லை",
                    "si": "එහි ලිපි ගබඩා කළ නොහැකි විය"},
    "error_other": {"en": "an unexpected error", "ta": "எதிர்பாராத பிழை",
                    "si": "අනපේක්ෂිත දෝෂයක්"},
    "website": {"en": "Website", "ta": "இணையதளம்", "si": "වෙබ් අඩවිය"},
    "feed_address": {"en": "Feed address", "ta": "செய்தியோடை முகவரி", "si": "පෝෂක ලිපිනය"},
    "subscribe": {"en": "Subscribe", "ta": "பின்தொடர", "si": "දායක වන්න"},
    "all_sources": {"en": "All sources (OPML)", "ta": "அனைத்து மூலங்களும் (OPML)",
                    "si": "සියලු මූලාශ්‍ර (OPML)"},
    "newest_entry": {"en": "Newest entry: {date}", "ta": "சமீபத்திய பதிவு: {date}",
                     "si": "නවතම ලිපිය: {date}"},
    "checked_at": {"en": "Checked {date}", "ta": "சரிபார்த்தது: {date}",
                   "si": "පරීක්ෂා කළේ: {date}"},
    "original_title": {"en": "Original title", "ta": "மூலத் தலைப்பு", "si": "මුල් මාතෘකාව"},
    "converted_from": {"en": "converted from the {encoding} font encoding",
                       "ta": "{encoding} எழுத்துருக் குறியாக்கத்திலிருந்து மாற்றப்பட்டது",
                       "si": "{encoding} අකුරු කේතනයෙන් පරිවර්තනය කළා"},
    "top_stories": {"en": "Top stories", "ta": "முக்கியச் செய்திகள்", "si": "ප්‍රධාන පුවත්"},
    "latest_in": {"en": "Latest in {language}", "ta": "சமீபத்திய {language} பதிவுகள்",
                  "si": "නවතම {language} ලිපි"},
    "all_in": {"en": "All entries in {language}", "ta": "அனைத்து {language} பதிவுகளும்",
               "si": "සියලු {language} ලිපි"},
    "search": {"en": "Search", "ta": "தேடல்", "si": "සොයන්න"},
    "search_label": {"en": "Words to find", "ta": "தேட வேண்டிய சொற்கள்", "si": "සෙවිය යුතු වචන"},
    "all_languages": {"en": "All languages", "ta": "அனைத்து மொழிகளும்", "si": "සියලු භාෂා"},
    "all_topics": {"en": "All topics", "ta": "அனைத்து தலைப்புகளும்", "si": "සියලු මාතෘකා"},
    "search_needs_js": {"en": "Search runs in your browser: it needs JavaScript, and the site "
                              "served over http(s) (aggregator serve, or any web server).",
                        "ta": "தேடல் உங்கள் உலாவியில் இயங்குகிறது: அதற்கு JavaScript-உம், http(s) "
                              "வழியாக வழங்கப்படும் தளமும் (aggregator serve அல்லது ஏதேனும் இணைய "
                              "சேவையகம்) தேவை.",
                        "si": "සෙවීම ඔබගේ බ්‍රවුසරයේ ක්‍රියා කරයි: ඒ සඳහා JavaScript සහ http(s) "
                              "හරහා සපයන අඩවියක් (aggregator serve හෝ ඕනෑම වෙබ් සේවාදායකයක්) අවශ්‍යයි."},
    "search_ready": {"en": "Type a word in English, Tamil or Sinhala.",
                     "ta": "ஆங்கிலம், தமிழ் அல்லது சிங்களத்தில் ஒரு சொல்லைத் தட்டச்சு செய்யுங்கள்.",
                     "si": "ඉංග්‍රීසි, දෙමළ හෝ සිංහල වචනයක් ටයිප් කරන්න."},
    "search_none": {"en": "Nothing found.", "ta": "எதுவும் கிடைக்கவில்லை.",
                    "si": "කිසිවක් හමු නොවීය."},
    "searching": {"en": "Searching…", "ta": "தேடுகிறது…", "si": "සොයමින්…"},
    "powered": {"en": "Made with aggregator", "ta": "aggregator கொண்டு உருவாக்கப்பட்டது",
                "si": "aggregator මගින් සකසන ලදී"},
}

# Strings with a number: one form per CLDR plural category of the language (Babel's
# ``Locale.plural_form``: English and Tamil say "one" for 1, Sinhala for 0 and 1 as well).
PLURALS: dict[str, dict[str, dict[str, str]]] = {
    "count": {"en": {"one": "{n} entry", "other": "{n} entries"},
              "ta": {"one": "{n} பதிவு", "other": "{n} பதிவுகள்"},
              "si": {"one": "ලිපි {n}", "other": "ලිපි {n}"}},
    "status_failing": {
        "en": {"one": "Failing since the last success ({date}): the last attempt failed",
               "other": "Failing since the last success ({date}), {n} attempts in a row"},
        "ta": {"one": "கடைசி வெற்றிக்குப் ({date}) பின் கடைசி முயற்சி தோல்வி",
               "other": "கடைசி வெற்றிக்குப் ({date}) பின் தொடர்ந்து {n} முறை தோல்வி"},
        "si": {"one": "අවසන් සාර්ථක වාරයෙන් ({date}) පසු අවසන් උත්සාහය අසාර්ථකයි",
               "other": "අවසන් සාර්ථක වාරයෙන් ({date}) පසු දිගටම {n} වරක් අසාර්ථකයි"}},
    "status_failing_never": {
        "en": {"one": "Failing, never fetched successfully ({n} attempt)",
               "other": "Failing, never fetched successfully ({n} attempts)"},
        "ta": {"one": "தோல்வி, இதுவரை ஒருமுறையும் பெற முடியவில்லை ({n} முயற்சி)",
               "other": "தோல்வி, இதுவரை ஒருமுறையும் பெற முடியவில்லை ({n} முயற்சிகள்)"},
        "si": {"one": "අසාර්ථකයි, මෙතෙක් එක් වරක්වත් ලබා ගත නොහැකි විය (උත්සාහ {n})",
               "other": "අසාර්ථකයි, මෙතෙක් එක් වරක්වත් ලබා ගත නොහැකි විය (උත්සාහ {n})"}},
    "search_found": {"en": {"one": "{n} entry found", "other": "{n} entries found"},
                     "ta": {"one": "{n} பதிவு கிடைத்தது", "other": "{n} பதிவுகள் கிடைத்தன"},
                     "si": {"one": "ලිපි {n} ක් හමු විය", "other": "ලිපි {n} ක් හමු විය"}},
}

# Gregorian month names as Sri Lankan Sinhala media write them (see the module docstring).
_SI_MONTHS = {
    "දුරුතු": "ජනවාරි", "නවම්": "පෙබරවාරි", "මැදින්": "මාර්තු", "බක්": "අප්‍රේල්",
    "වෙසක්": "මැයි", "පොසොන්": "ජූනි", "ඇසළ": "ජූලි", "නිකිණි": "අගෝස්තු",
    "බිනර": "සැප්තැම්බර්", "වප්": "ඔක්තෝබර්", "ඉල්": "නොවැම්බර්", "උඳුවප්": "දෙසැම්බර්",
}
_TIME_PATTERN = {"ta": "B h:mm"}


def _si_months(text: str) -> str:
    # longest names first: "උඳුවප්" contains "වප්"
    for old in sorted(_SI_MONTHS, key=len, reverse=True):
        if old in text:
            return text.replace(old, _SI_MONTHS[old])
    return text


class Translator:
    """Interface strings and formatting for one UI language and time zone."""

    def __init__(self, ui: str, tz: tzinfo = timezone.utc):
        if ui not in UI_LANGUAGES:
            raise ValueError(f"no interface translation for {ui!r}")
        self.ui = ui
        self.tz = tz
        self.locale = Locale.parse(ui)
        # Formatted dates and times, by local day and by local minute of the day: what the
        # formats show depends on nothing else, and a big site formats a few hundred thousand.
        self._dates: dict[tuple[date, str], str] = {}
        self._times: dict[tuple[int, int], str] = {}

    def __call__(self, key: str, **kw: object) -> str:
        text = STRINGS[key].get(self.ui) or STRINGS[key]["en"]
        return text.format(**kw) if kw else text

    def plural(self, key: str, n: int, **kw: object) -> str:
        """``PLURALS[key]`` in the form CLDR's plural rules choose for ``n`` ({n} formatted)."""
        forms = PLURALS[key].get(self.ui) or PLURALS[key]["en"]
        text = forms.get(self.locale.plural_form(n)) or forms["other"]
        return text.format(n=self.number(n), **kw)

    def plural_forms(self, key: str) -> dict[str, str]:
        """Every form of ``PLURALS[key]`` in this language (for the search page's script)."""
        return dict(PLURALS[key].get(self.ui) or PLURALS[key]["en"])

    def count(self, n: int) -> str:
        return self.plural("count", n)

    def number(self, n: int | float) -> str:
        return format_decimal(n, locale=self.locale)

    def local(self, dt: datetime) -> datetime:
        if dt.tzinfo is None:  # stored times are UTC; Babel reads a naive time as UTC too
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.astimezone(self.tz)

    def date(self, d: date | datetime, fmt: str = "full") -> str:
        if isinstance(d, datetime):
            d = self.local(d).date()
        text = self._dates.get((d, fmt))
        if text is None:
            text = format_date(d, fmt, locale=self.locale)
            if self.ui == "si":
                text = _si_months(text)
            self._dates[(d, fmt)] = text
        return text

    def month(self, d: date) -> str:
        text = format_date(d, "LLLL y", locale=self.locale)
        return _si_months(text) if self.ui == "si" else text

    def time(self, dt: datetime) -> str:
        local = self.local(dt)
        key = (local.hour, local.minute)
        text = self._times.get(key)
        if text is None:
            text = self._times[key] = format_time(dt, _TIME_PATTERN.get(self.ui, "short"),
                                                  tzinfo=self.tz, locale=self.locale)
        return text

    def datetime(self, dt: datetime) -> str:
        sep = ", " if self.ui == "en" else " "
        return f"{self.date(dt, 'medium')}{sep}{self.time(dt)}"

    def language(self, code: str) -> str:
        """The name of language ``code`` in the interface language ("Tamil", "தமிழ்"...)."""
        return language_name(code, self.ui)


@lru_cache(maxsize=512)
def language_name(code: str, ui: str) -> str:
    if code in ("und", "", None):
        return {"en": "Unknown language", "ta": "அறியப்படாத மொழி",
                "si": "නොදන්නා භාෂාව"}.get(ui, "Unknown language")
    try:
        name = Locale.parse(ui).languages.get(code)
    except (ValueError, TypeError):
        name = None
    return name or code


@lru_cache(maxsize=64)
def native_language_name(code: str) -> str:
    """A language's name in itself: English, தமிழ், සිංහල (for the language switcher)."""
    try:
        return Locale.parse(code).get_display_name(code) or code
    except (ValueError, TypeError):
        return code


def plural_en(n: int, one: str, other: str) -> str:
    """``n`` and the English word for it, for the command line: "1 feed", "0 feeds", "2 feeds"
    (CLDR's English rule through Babel: only 1 is singular)."""
    return f"{n:,} {one if Locale.parse('en').plural_form(n) == 'one' else other}"
