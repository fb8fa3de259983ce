"""Kazakh Latin and Arabic script to Cyrillic, by rule tables.

The embedding model reads Kazakh Cyrillic far better than Kazakh in Latin or Arabic script, so Kazakh text is
converted before embedding. Latin Kazakh comes in several spellings; the variant is detected per text:

* ``2021``: the revised official alphabet (ä ğ ı i ñ ö q ş ç ū ü u y: ı = ы, ū = ұ, u = у, y = й);
* ``2018``: the acute-accent alphabet (á ǵ ı ń ó ú ý: y = ы, ı = и/й, u = ұ, ú = ү, ý = у, sh, ch);
* ``2017``: the apostrophe alphabet (a' g' n' o' u' y' i' s' c');
* ``informal``: plain ASCII with digraphs (sh ch zh kh gh ng) as written in chats, URLs and English-style
  transcriptions, plus stray Turkish letters.

Arabic-script Kazakh (tote jazuw, used by Kazakhs in Xinjiang) writes one letter for each vowel pair
(а/ә, о/ө, ұ/ү, ы/і); a front-vowel word is marked by the hamza sign ٴ (or the letter hamza ء typed for it) or the letters ە ك گ,
so vowels are resolved per word.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from mediawatch.classify.lang import Script, dominant_script, kazakh_script


class LatinVariant(StrEnum):
    OFFICIAL_2021 = "2021"
    ACUTE_2018 = "2018"
    APOSTROPHE_2017 = "2017"
    INFORMAL = "informal"


_APOSTROPHES = "'’ʼ‘`ʻ"
_LATIN_VOWELS = frozenset("aeiouyáäéíóöúüūıý")
_CYR_VOWELS = frozenset("аәеиоөұүыіуэюяё")


def _pairs(spec: str) -> dict[str, str]:
    """A rule table written as whitespace-separated pairs: ``"a а  sh ш"`` -> ``{"a": "а", "sh": "ш"}``."""
    words = spec.split()
    return dict(zip(words[0::2], words[1::2], strict=True))


# Context rules (y, ı, i, ng, iotated vowels) are handled in code; digraphs are tried before single letters.
_COMMON = _pairs(
    "a а  b б  d д  e е  f ф  g г  h х  j ж  k к  l л  m м  n н  o о  p п  q қ  r р  s с  t т  v в  z з"
    "  c ц  w у  x х"
)
_TABLES: dict[LatinVariant, dict[str, str]] = {
    LatinVariant.OFFICIAL_2021: _COMMON
    | _pairs("ä ә  ğ ғ  ı ы  ñ ң  ö ө  ş ш  ç ч  ū ұ  ü ү  u у  sh ш  ch ч  zh ж"),
    LatinVariant.ACUTE_2018: _COMMON
    | _pairs("á ә  ǵ ғ  ń ң  ó ө  ú ү  ý у  u ұ  y ы  i і  í и  sh ш  ch ч  zh ж"),
    LatinVariant.APOSTROPHE_2017: _COMMON
    | _pairs("a' ә  g' ғ  n' ң  o' ө  u' ү  y' у  i' и  s' ш  c' ч  sh ш  ch ч  u ұ  y ы  i і"),
    LatinVariant.INFORMAL: _COMMON
    | _pairs(
        "ä ә  ə ә  ğ ғ  ı ы  ñ ң  ö ө  ş ш  ç ч  ū ұ  ü ү  u у  á ә  ǵ ғ  ń ң  ó ө  ú ү  ý у "
        " sh ш  ch ч  zh ж  kh х  gh ғ"
    ),
}
_IOTATED = {"a": "я", "u": "ю", "o": "ё"}


def detect_latin_variant(text: str) -> LatinVariant:
    """Which Latin Kazakh spelling ``text`` uses (by its distinctive letters)."""
    low = unicodedata.normalize("NFC", text).lower()
    acute = sum(low.count(ch) for ch in "áǵńóúýí")
    official = sum(low.count(ch) for ch in "äğñöüūşç")
    apostrophe = len(re.findall(rf"[agnouyisc][{_APOSTROPHES}](?=[a-z]|\b)", low))
    dotless = low.count("ı")
    if acute and acute >= official:
        return LatinVariant.ACUTE_2018
    if apostrophe >= 2 and apostrophe > official + acute:
        return LatinVariant.APOSTROPHE_2017
    if official or dotless:
        return LatinVariant.OFFICIAL_2021
    return LatinVariant.INFORMAL


def _is_front_word(word: str) -> bool:
    """A word without back vowels, for the i = і / и choice (loans with back vowels take и)."""
    return not any(ch in "aouıū" for ch in word)


def _latin_word(word: str, variant: LatinVariant) -> str:
    table = _TABLES[variant]
    low = word.lower()
    out: list[str] = []
    i = 0
    n = len(low)
    front = _is_front_word(low)
    while i < n:
        ch = low[i]
        prev = low[i - 1] if i else ""
        nxt = low[i + 1] if i + 1 < n else ""
        after_vowel = prev in _LATIN_VOWELS
        # iotated vowels: ya/yu/yo (2021, informal), ıa/ıý (2018)
        if variant is not LatinVariant.ACUTE_2018 and ch == "y" and nxt in _IOTATED and nxt != "'":
            out.append(_IOTATED[nxt])
            i += 2
            continue
        if (
            variant is LatinVariant.ACUTE_2018
            and ch == "ı"
            and nxt in ("a", "ý", "u")
            and (i == 0 or after_vowel or prev in "ıi")
        ):
            out.append("я" if nxt == "a" else "ю")
            i += 2
            continue
        if variant is LatinVariant.INFORMAL and ch == "n" and nxt == "g":
            after = low[i + 2] if i + 2 < n else ""
            if after not in _LATIN_VOWELS:
                out.append("ң")
                i += 2
                continue
        pair = low[i : i + 2]
        if len(pair) == 2 and pair[1] in _APOSTROPHES and variant is LatinVariant.APOSTROPHE_2017:
            key = pair[0] + "'"
            if key in table:
                out.append(table[key])
                i += 2
                continue
        if pair in table and len(pair) == 2:
            out.append(table[pair])
            i += 2
            continue
        if ch == "y" and variant in (LatinVariant.OFFICIAL_2021, LatinVariant.INFORMAL):
            # y is й next to a vowel (Altay, aytys, toyyn) and ы between consonants (Nauryz, qalasy)
            near_vowel = (prev in _LATIN_VOWELS and prev != "y") or (i == 0 and nxt in _LATIN_VOWELS)
            out.append("й" if near_vowel else "ы")
        elif ch == "ı" and variant is LatinVariant.ACUTE_2018:
            out.append("й" if after_vowel else "и")
        elif ch == "i" and variant in (LatinVariant.OFFICIAL_2021, LatinVariant.INFORMAL):
            out.append("і" if front else "и")
        elif ch in table:
            out.append(table[ch])
        elif ch in _APOSTROPHES:
            pass
        else:
            out.append(word[i])
        i += 1
    return _restore_case(word, "".join(out))


def _restore_case(original: str, converted: str) -> str:
    letters = [c for c in original if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return converted.upper()
    if letters and original[0].isupper():
        return converted[:1].upper() + converted[1:]
    return converted


_LATIN_WORD = re.compile(rf"[^\W\d_]+(?:[{_APOSTROPHES}][^\W\d_]*)*")


def latin_to_cyrillic(text: str, variant: LatinVariant | None = None) -> str:
    """Transliterate Latin-script Kazakh to Cyrillic (the variant is detected when not given)."""
    text = unicodedata.normalize("NFC", text)
    chosen = variant or detect_latin_variant(text)

    def convert(match: re.Match[str]) -> str:
        word = match.group(0)
        if any(_is_non_latin(c) for c in word):
            return word
        return _latin_word(word, chosen)

    return _LATIN_WORD.sub(convert, text)


def _is_non_latin(ch: str) -> bool:
    return ch.isalpha() and ord(ch) >= 0x0250 and not 0x1E00 <= ord(ch) <= 0x1EFF


# --- Arabic script (tote jazuw) ---------------------------------------------------------------------------

# ٴ ٵ ٶ ٷ ٸ ە ك ک گ, and ء: the letter hamza is often typed for the hamza sign ٴ
_ARABIC_FRONT_SIGNS = frozenset("\u0674\u0675\u0676\u0677\u0678\u06d5\u0643\u06a9\u06af\u0621")
_ARABIC_PAIRS: dict[str, tuple[str, str]] = {  # letter: (in a back-vowel word, in a front-vowel word)
    "\u0627": ("а", "ә"),  # ا
    "\u0648": ("о", "ө"),  # و
    "\u06c7": ("ұ", "ү"),  # ۇ
    "\u0649": ("ы", "і"),  # ى
    "\u06cc": ("ы", "і"),  # ی (Persian yeh, typed for ى)
}
# ٵ ٶ ٷ ٸ, consonants, ە/ه (е), ھ (һ), ۋ (у), ۆ (в); ي (и/й) is handled in code
_ARABIC_LETTERS = _pairs(
    "ٵ ә  ٶ ө  ٷ ү  ٸ і  ب б  پ п  ت т  ج ж  چ ч  ح х  خ х  د д  ر р  ز з  س с  ش ш  ع ғ  غ ғ  ف ф  ق қ  ك к "
    " ک к  گ г  ڭ ң  ل л  م м  ن н  ھ һ  ه е  ە е  ۋ у  ۆ в  ة е"
)
_ARABIC_SILENT = frozenset("\u0626\u0674\u0621\u0640\u200c\u200d")  # ئ, the hamza sign, ء, tatweel, ZWNJ, ZWJ
_ARABIC_PUNCT = str.maketrans(
    {"\u060c": ",", "\u061b": ";", "\u061f": "?", "\u066a": "%", "\u06d4": ".", "\u00ab": "«", "\u00bb": "»"}
    | {chr(0x0660 + d): str(d) for d in range(10)}
    | {chr(0x06F0 + d): str(d) for d in range(10)}
)
_ARABIC_WORD = re.compile(r"[\u0600-\u06ff\u200c\u200d]+")


def _arabic_word(word: str) -> str:
    front = any(ch in _ARABIC_FRONT_SIGNS for ch in word)
    out: list[str] = []
    for i, ch in enumerate(word):
        if ch in _ARABIC_PAIRS:
            back_form, front_form = _ARABIC_PAIRS[ch]
            out.append(front_form if front else back_form)
        elif ch == "\u064a":  # ي: й after a vowel (not before one), else и
            prev = out[-1] if out else ""
            nxt = word[i + 1] if i + 1 < len(word) else ""
            vowel_next = bool(nxt) and (nxt in _ARABIC_PAIRS or nxt in "\u0675\u0676\u0677\u0678\u06d5")
            out.append("й" if prev in _CYR_VOWELS and not vowel_next else "и")
        elif ch in _ARABIC_LETTERS:
            out.append(_ARABIC_LETTERS[ch])
        elif (
            ch in _ARABIC_SILENT or unicodedata.category(ch) == "Mn"
        ):  # silent signs; harakat (rare in Kazakh)
            continue
        else:
            out.append(ch)
    return "".join(out)


def arabic_to_cyrillic(text: str) -> str:
    """Transliterate Arabic-script Kazakh (tote jazuw) to Cyrillic."""
    text = unicodedata.normalize("NFC", text).translate(_ARABIC_PUNCT)
    return _ARABIC_WORD.sub(lambda m: _arabic_word(m.group(0)), text)


def to_cyrillic(text: str, script: Script | None = None) -> tuple[str, Script | None]:
    """Kazakh text in Latin or Arabic script converted to Cyrillic, with the script it was found in.

    ``script`` forces the source script; by default :func:`~mediawatch.classify.lang.kazakh_script` decides,
    and text that is not Kazakh (or is already Cyrillic) comes back unchanged with ``None``.
    """
    found = script if script is not None else kazakh_script(text)
    if found is Script.LATIN:
        return latin_to_cyrillic(text), found
    if found is Script.ARABIC:
        return arabic_to_cyrillic(text), found
    return text, None


# --- the text the model reads -------------------------------------------------------------------------------

LEAD_CHARS = 600  # title + this much of the text: e5 reads at most 512 tokens, and leads carry the topic
# A longer text is read as successive windows of LEAD_CHARS, each with the title, and at most this many (the
# rest of a very long article is not read): see text_windows and the tagger.
MAX_WINDOWS = 6
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s")


def lead_text(text: str, limit: int = LEAD_CHARS) -> str:
    """The first sentences of ``text`` up to about ``limit`` characters (whitespace collapsed)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.start() for m in _SENTENCE_END.finditer(cut)]
    if ends and ends[-1] > limit // 3:
        return cut[: ends[-1]].rstrip()
    space = cut.rfind(" ")
    return cut[: space if space > limit // 2 else limit].rstrip()


def join_title(title: str, body: str, ends: str = ".!?。！？:") -> str:
    """``title`` and ``body`` as one text, with a full stop between them unless the title ends with one of
    ``ends``: the title's last words and the body's first are not one phrase."""
    title = title.rstrip()
    if not (title and body):
        return title or body
    return f"{title} {body}" if title[-1] in ends else f"{title}. {body}"


def _body(title: str, text: str) -> tuple[str, str]:
    """Title and text with whitespace collapsed; the title is taken off the text's start when repeated there."""
    title = " ".join(title.split())
    body = " ".join(text.split())
    if title and body.startswith(title):
        body = body[len(title) :].lstrip(" .:-–—|")
    return title, body


def text_windows(title: str, text: str, most: int = MAX_WINDOWS) -> list[str]:
    """The item's text (without a repeated title) cut into successive leads, at most ``most`` of them.

    The first is the lead that :func:`text_for` reads; a text no longer than one lead gives one window (none
    when empty). Each window ends at a sentence where one ends near the limit, like :func:`lead_text`.
    """
    _, body = _body(title, text)
    windows: list[str] = []
    while body and len(windows) < most:
        window = lead_text(body)
        if not window:
            break
        windows.append(window)
        body = body[len(window) :].lstrip()
    return windows


def text_for(title: str, text: str, *, lang: str | None = None) -> str:
    """What the model embeds for an item: title and lead, Kazakh in Latin/Arabic script turned Cyrillic.

    Used for training examples, items and the evaluation alike. ``lang="kk"`` forces transliteration of
    Latin or Arabic text that the heuristics would not recognise as Kazakh on their own. (The tagger reads a
    longer text as several such leads: see :func:`text_windows`.)
    """
    title, body = _body(title, text)
    joined = join_title(title, lead_text(body))
    script: Script | None = None
    if lang == "kk":
        found = dominant_script(joined)
        script = found if found in (Script.LATIN, Script.ARABIC) else None
    converted, _ = to_cyrillic(joined, script)
    return converted
