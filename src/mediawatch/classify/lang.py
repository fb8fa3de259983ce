"""Language and script detection, Kazakh-aware.

py3langid knows Kazakh (``kk``) only in Cyrillic: Latin-script Kazakh comes out as Crimean Tatar, Turkish or
Uzbek, and Arabic-script Kazakh (tote jazuw, used in Xinjiang) as Uyghur. Script heuristics fix that:

* Cyrillic with letters only Kazakh uses (қ ұ, and ә ғ ң ө ү һ і together) is Kazakh;
* Arabic script with Kazakh letters (the high-hamza ٴ ٵ ٶ ٷ ٸ, or ە ۋ ڭ ۇ) and without Uyghur's ې ۈ ئ غ
  and function words (or Sorani Kurdish letters) is Kazakh; where those occur, only the hamza sign, which
  Uyghur never writes, makes it Kazakh;
* Latin text is Kazakh when Kazakh-only letters, Kazakh function words and suffixes outweigh Uzbek, Turkish
  and English markers (:func:`kazakh_latin_score`).

:func:`kazakh_script` is pure and cheap (used by ``text_for``); :class:`LanguageDetector` adds py3langid and
is built once by the caller (it loads a ~1 s model lazily, never at import).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier


class Script(StrEnum):
    CYRILLIC = "Cyrl"
    LATIN = "Latn"
    ARABIC = "Arab"
    HAN = "Hani"
    OTHER = "Zyyy"


# Letters of Kazakh Cyrillic that Russian lacks. қ and ұ are Kazakh-only (Bashkir's ҡ is another code point);
# ә ғ ң ө ү һ і also occur in Tatar, Bashkir, Kyrgyz, Mongolian or Ukrainian.
KAZAKH_CYRILLIC_UNIQUE = frozenset("құҚҰ")
KAZAKH_CYRILLIC_EXTRA = frozenset("әғңөүһіӘҒҢӨҮҺІ")
# Arabic-script Kazakh: the hamza sign (front-vowel word) and its precomposed high-hamza letters.
KAZAKH_ARABIC_MARKS = frozenset("\u0674\u0675\u0676\u0677\u0678")
# Arabic-script letters shared by Kazakh and Uyghur but not Arabic/Persian.
TURKIC_ARABIC_LETTERS = frozenset("\u06d5\u06cb\u06ad\u06c7\u06c6")  # ە ۋ ڭ ۇ ۆ
UYGHUR_ARABIC_LETTERS = frozenset("\u06d0\u06c8\u0626\u063a")  # ې ۈ ئ, and غ (ğ; Kazakh writes ғ as ع)
# Uyghur function words spelled unlike Kazakh's (ۋە "and", بىلەن "with", ھەم "also"; Kazakh: ٴجانە, مەن, دا)
UYGHUR_ARABIC_WORDS = frozenset({"\u06cb\u06d5", "\u0628\u0649\u0644\u06d5\u0646", "\u06be\u06d5\u0645"})
# Letters of Sorani Kurdish, which also writes ە and ۆ: ێ ڵ ڕ ڤ
KURDISH_ARABIC_LETTERS = frozenset("\u06ce\u06b5\u0695\u06a4")

_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ‘`ʻ][^\W\d_]+)*")
_ARABIC_WORD = re.compile(r"[\u0600-\u06ff]+")

# Latin-script Kazakh markers. Letters that only Kazakh Latin alphabets use (2018 acute letters, 2021 ä ñ ū).
_KK_LATIN_LETTERS = frozenset("ǵǴ")  # only Kazakh's 2018 alphabet writes ǵ
# Letters of Kazakh alphabets that other languages share (á ó ú: Spanish, Czech; ä: German, Estonian; ...)
_KK_LATIN_SHARED = frozenset("áńóúýäñūğşçöüı")
# Letters no Kazakh Latin alphabet uses: Estonian õ, Nordic å ø, French é è ê, Polish ł ż ś ć ę ą,
# Czech ř ě ů, Hungarian ő ű, German ß.
_NOT_KK_LATIN = frozenset("õåøéèêëàâîïôûłżźśćęąřěůőűßčšžďťň")
_KK_LATIN_WORDS = frozenset(
    """
    jáne jäne zhane zháne men ben pen úshin üşin ushin üshin ushın bul osy dep degen bolyp bolady boldy
    edi eken jyly jyl boıynsha boiynsha boyınşa boiinsha arqyly arkyly turaly týraly sońǵy soñğı songy
    qazaq qazaqtar qazaqtary qazaqtyń qazaqtıñ qazaqstan qazaqstannyń qazaqstandyq halyq halqy
    memlekettik tili eli elinde qala qalasy aýdany audany oblysy mereke merekesi toıy toyı toiy jańa
    jaña zhana búgin bügin bugin birge barlyq kóp köp kop úlken ülken ulken otandas otandastar qandas
    qandastar naýryz nauryz merekesi merekesin ótkizdi ötkizdi otkizdi ótti ötti otti toılady toyladı
    toylady aımaq aimaq aımaǵy aimagy aımaǵynda aimagynda aýyl auyl aýyly auyly mektep mektebi mektepte
    balalar jastar ókilderi ökilderi okilderi ulttyq ulttyq ūlttyq dástúrli dästürli dasturli shetel
    shetelde şetel şetelde shetelde kóshi köşi koshi atajurt atamekenge elge oraldy
    """.split()
)
_KK_LATIN_SUFFIXES = tuple(
    """
    dyń tyń nyń diń tiń niń dıñ tıñ nıñ dyn tyn nyn daǵy taǵy dağı tağı dagy tagy degi tegi
    tary lary dary teri leri deri ǵa ğa qa ǵan ğan qan
    """.split()
)
_UZ_WORDS = frozenset(
    """
    va bilan uchun qilib qildi ham yil yilda bo'lib boʻlib o'z oʻz bu emas edi deb
    """.split()
)
_TR_WORDS = frozenset(
    """
    ve bir için ile olarak olan bu da de çok gibi daha sonra ise nevruz bayramı bayram derneği türkiye
    """.split()
)
_EN_WORDS = frozenset("the and of in to for is on with from by at as that".split())
_UZ_APOSTROPHE = re.compile(r"[oOgG][‘’'ʻʼ`][a-zA-Z]")
# The 2017 apostrophe alphabet: a' n' u' y' i' s' c' inside a word (Uzbek puts them after o and g only).
_KK_APOSTROPHE = re.compile(r"[a-zA-Z][aAnNuUyYiIsScC][‘’'ʼ`][a-zA-Z]")


def script_counts(text: str) -> dict[Script, int]:
    """Count letters per script."""
    counts = dict.fromkeys(Script, 0)
    for ch, n in Counter(text).items():  # distinct characters only: several times faster on prose
        if ch.isalpha():
            counts[_char_script(ch)] += n
    return counts


def _char_script(ch: str) -> Script:
    code = ord(ch)
    if 0x0400 <= code <= 0x052F:
        return Script.CYRILLIC
    if code < 0x0250 or 0x1E00 <= code <= 0x1EFF:
        return Script.LATIN
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return Script.ARABIC
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return Script.HAN
    return Script.OTHER


def dominant_script(text: str) -> Script:
    """The script with most letters (``OTHER`` for text without letters)."""
    return _dominant(script_counts(text))


def _dominant(counts: dict[Script, int]) -> Script:
    best = max(counts, key=lambda s: counts[s])
    if counts[best] == 0:
        return Script.OTHER
    # Han characters carry a word each; weigh them so a Chinese headline with a Latin name stays Chinese.
    if counts[Script.HAN] * 3 >= counts[best]:
        return Script.HAN
    return best


# Languages written in one script only. A document declaring one of them while its text is in another script
# carries a template's language (WordPress's default en-US on a Kazakh site, an Arabic-script Kazakh page built
# as zh-CN).
_ONE_SCRIPT = {
    **dict.fromkeys(("zh", "ja"), Script.HAN),
    **dict.fromkeys(("ru", "uk", "be", "bg", "mn"), Script.CYRILLIC),
    **dict.fromkeys(("en", "de", "fr", "it", "es", "pt", "tr", "pl", "nl", "sv", "cs"), Script.LATIN),
    **dict.fromkeys(("ar", "fa"), Script.ARABIC),
}


def contradicts_script(language: str | None, text: str) -> bool:
    """Whether a declared ``language`` tag (``en-US``, ``zh_CN``) is one written in a single script while
    ``text`` (its first 2,000 characters) is mostly in another. Languages written in several scripts (Kazakh,
    Uzbek, Kyrgyz, …), unknown tags and text without letters never contradict."""
    primary = (language or "").strip().replace("_", "-").split("-")[0].lower()
    expected = _ONE_SCRIPT.get(primary)
    if expected is None:
        return False
    found = dominant_script(text[:2000])
    return found is not Script.OTHER and found is not expected


def kazakh_latin_score(text: str) -> float:
    """Evidence that Latin-script ``text`` is Kazakh (> 1) rather than Uzbek, Turkish, English or another
    Latin-script language (<= 1): Kazakh words, suffixes, q and letters, minus other languages' markers."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return 0.0
    score = 0.0
    kazakh_words = 0
    for word in words:
        if not _KK_LATIN_LETTERS.isdisjoint(word):
            score += 2.0
        elif not _KK_LATIN_SHARED.isdisjoint(word):
            score += 1.0
        if word in _KK_LATIN_WORDS:
            score += 2.0
            kazakh_words += 1
        elif len(word) > 4 and word.endswith(_KK_LATIN_SUFFIXES):
            score += 1.0
        if "q" in word and not word.startswith(("qatar", "iraq")):
            score += 0.5
            kazakh_words += 1
        if word in _UZ_WORDS:
            score -= 2.0
        if word in _TR_WORDS or word in _EN_WORDS:
            score -= 1.5
        if word.startswith(("kazak", "kasach", "qozoq")):  # Kazakh Latin spells its name with q: qazaq
            score -= 1.0
        if not _NOT_KK_LATIN.isdisjoint(word):
            score -= 3.0
    if not kazakh_words:  # letters alone (ä, ú, ñ...) do not make a text Kazakh
        return min(score, 0.0)
    score -= 2.0 * len(_UZ_APOSTROPHE.findall(text))
    score += 2.0 * len(_KK_APOSTROPHE.findall(text))
    return float(score / len(words) ** 0.5)


def kazakh_script(text: str) -> Script | None:
    """The script ``text`` is written in if it is Kazakh, else ``None`` (heuristic, no model)."""
    counts = script_counts(text)
    letters = sum(counts.values())
    if letters == 0:
        return None
    script = _dominant(counts)
    if script is Script.CYRILLIC:
        unique = sum(ch in KAZAKH_CYRILLIC_UNIQUE for ch in text)
        extra = sum(ch in KAZAKH_CYRILLIC_EXTRA for ch in text)
        # Kazakh prose has about one such letter in ten; a Russian text quoting "қазақ күресі" far fewer
        dense = unique + extra >= 0.07 * counts[Script.CYRILLIC]
        return Script.CYRILLIC if unique >= 1 and dense else None
    if script is Script.ARABIC:
        marks = sum(ch in KAZAKH_ARABIC_MARKS for ch in text)
        turkic = sum(ch in TURKIC_ARABIC_LETTERS for ch in text)
        other = sum(ch in UYGHUR_ARABIC_LETTERS or ch in KURDISH_ARABIC_LETTERS for ch in text)
        other += sum(word in UYGHUR_ARABIC_WORDS for word in _ARABIC_WORD.findall(text))
        # with any Uyghur or Kurdish evidence, only Kazakh's own hamza sign (never written in Uyghur) decides
        if (marks + turkic >= 1 and other == 0) or (marks >= 1 and other * 4 <= marks + turkic):
            return Script.ARABIC
        return None
    if script is Script.LATIN:
        return Script.LATIN if kazakh_latin_score(text) >= 1.0 else None
    return None


@dataclass(frozen=True, slots=True)
class LangGuess:
    lang: str  # ISO 639-1 (``und`` when unknown)
    script: Script
    confidence: float
    kazakh_script: Script | None = None  # set when the text is Kazakh


class LanguageDetector:
    """py3langid plus the Kazakh script heuristics. Build one and pass it where needed."""

    def __init__(self) -> None:
        self._identifier: LanguageIdentifier | None = None

    def _ident(self) -> LanguageIdentifier:
        if self._identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return self._identifier

    def detect(self, text: str) -> LangGuess:
        text = unicodedata.normalize("NFC", text)
        script = dominant_script(text)
        kk = kazakh_script(text)
        if kk is not None:
            return LangGuess("kk", script, 0.9 if kk is Script.CYRILLIC else 0.75, kk)
        if script is Script.OTHER and not text.strip():
            return LangGuess("und", script, 0.0)
        lang, prob = self._ident().classify(text)
        lang = _ALIASES.get(str(lang), str(lang))
        if script is Script.HAN:
            lang = "zh" if lang in {"zh", "wuu", "yue"} else lang
        if lang == "kk" and script is Script.CYRILLIC:
            return LangGuess("kk", script, float(prob), Script.CYRILLIC)
        return LangGuess(lang, script, float(prob))


_ALIASES = {"wuu": "zh", "yue": "zh", "uzs": "uz"}


# Languages whose Latin-script text a given ``kk`` is not overruled for (Kazakh Latin is often detected as one
# of them), and how sure the detector must be of another language to overrule it.
TURKIC_LANGS = frozenset({"kk", "tr", "az", "uz", "ky", "tk", "tt", "ba", "ug", "crh", "kaa"})
OVERRULE_CONFIDENCE = 0.8


def language_sample(title: str, text: str) -> str:
    """What the language of an item is judged on: its title and the start of its text."""
    return f"{title} {text[:400]}"


@functools.cache
def shared_detector() -> LanguageDetector:
    """One detector per process for code that reads items outside a tagger (py3langid's model loads once)."""
    return LanguageDetector()


def overrules_kk(guess: LangGuess, script: Script) -> bool:
    """Does the detector's ``guess`` for a text in ``script`` overrule a given ``kk`` (see :func:`reading_lang`)?"""
    return script is Script.LATIN and guess.lang not in TURKIC_LANGS and guess.confidence >= OVERRULE_CONFIDENCE


def reading_lang(title: str, text: str, lang: str | None, detector: LanguageDetector) -> str | None:
    """The language an item is read in: ``lang`` as given, except that a ``kk`` given for Latin-script text the
    detector confidently finds to be a language that is not Turkic (a Kazakh outlet's English page, a source's
    ``language: kk`` default) is dropped, so the text is not transliterated as Kazakh Latin. Arabic script is
    left as given: Kazakh in it is often detected as Arabic, Persian or Uyghur."""
    if lang != "kk":
        return lang
    sample = language_sample(title, text)
    script = dominant_script(sample)
    if script is not Script.LATIN:
        return lang
    return None if overrules_kk(detector.detect(sample), script) else lang
