"""Name matching shared by the gazetteer and the topic cues: folding, name parsing and a fast matcher.

Names are matched word by word on *folded* text (:func:`fold`): case and Latin diacritics removed, Kazakh
Cyrillic letters mapped onto their Russian neighbours (ә→а, ғ→г, ң→н, ө→о, ұ/ү→у, һ→х, і→и; қ is kept so that
Kazakh ``қазақ`` never folds onto Russian ``казак``, a Cossack), apostrophes of Uzbek o‘/g‘ dropped. A ``*``
at the end of a word makes it a stem (``Монголи*`` matches ``Монголии``, ``Моңғолиядағы``). Chinese and
Japanese (kana) names match as substrings. At one place the longest name wins.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mediawatch.errors import ConfigError

__all__ = ["NameMatcher", "Parsed", "declined_forms", "fold", "is_cjk", "parse_name"]

# --- folding ------------------------------------------------------------------------------------------------

_FOLD_TABLE = str.maketrans("әғңөұүһіёйıəøłđ", "агноуухиеиiaold", "ъь") | {
    ord("ß"): "ss",
    ord("æ"): "ae",
    ord("œ"): "oe",
}
_UZ_APOSTROPHE = re.compile(r"(?<=[og])[‘’'ʻʼ`](?=\w)")
_APOSTROPHE = re.compile(r"[‘’'ʻʼ`]")
_NON_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Lower-case, diacritic-free, Kazakh-to-Russian-letter form used for matching (words space-separated)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _UZ_APOSTROPHE.sub("", text)
    text = _APOSTROPHE.sub(" ", text)
    text = text.translate(_FOLD_TABLE)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    text = unicodedata.normalize("NFC", text)
    return _NON_WORD.sub(" ", text).strip()


_CJK = re.compile("[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")  # kana, Han: no spaces between words


def is_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


# --- matching -----------------------------------------------------------------------------------------------

_Token = tuple[str, bool]  # (folded literal, is a stem)
Parsed = tuple[_Token, ...] | str  # word tokens, or the folded literal of a Chinese name


@dataclass(frozen=True, slots=True)
class _Name:
    tokens: tuple[_Token, ...]
    entry: int
    size: int  # folded literal length: the longer name wins at one place


def parse_name(name: str, source: str) -> Parsed:
    """A name as folded tokens (``*`` ends a stem token), or its folded literal for Chinese names."""
    if is_cjk(name):
        return fold(name.replace("*", ""))
    tokens: list[_Token] = []
    for raw in name.split():
        if "*" in raw.rstrip("*"):
            raise ConfigError(f"{source}: in {name!r}, '*' may only end a word")
        parts = fold(raw.rstrip("*")).split()
        if not parts:
            continue
        tokens.extend((p, False) for p in parts[:-1])
        tokens.append((parts[-1], raw.endswith("*")))
    return tuple(tokens)


_RU_Y_ENDINGS = ("я", "ю", "е", "ем")  # Китай: Китая, Китаю, Китае, Китаем
_CYRILLIC_Y = re.compile(r"[\u0400-\u04ff][йЙ]$")


def declined_forms(name: str) -> list[str]:
    """Other spellings to match for ``name``: the Russian case forms of a last word ending in -й, which
    folding alone does not reach (й folds to и, so ``Китай*`` covers Китайский but not Китая or Китае)."""
    stem = name.endswith("*")
    core = name[:-1] if stem else name
    if not _CYRILLIC_Y.search(core):
        return []
    return [core[:-1] + ending + ("*" if stem else "") for ending in _RU_Y_ENDINGS]


_SPACE_WORD = re.compile(r"\S+")
_MEMO_WORDS = 200_000  # distinct words remembered per matcher (a few tens of MB at most)


class NameMatcher:
    """Names indexed by their first word (exact words in a dict, stems by prefix); Chinese by substring."""

    def __init__(self, names: list[Parsed], entries: list[int]) -> None:
        self.exact: dict[str, list[_Name]] = {}
        self.stems: dict[str, list[_Name]] = {}
        self.cjk: list[tuple[str, int]] = []
        self.max_stem = 0
        for parsed, entry in zip(names, entries, strict=True):
            if isinstance(parsed, str):
                self.cjk.append((parsed, entry))
                continue
            item = _Name(parsed, entry, sum(len(t) for t, _ in parsed) + len(parsed) - 1)
            first, stem = parsed[0]
            (self.stems if stem else self.exact).setdefault(first, []).append(item)
            if stem:
                self.max_stem = max(self.max_stem, len(first))
        self.cjk.sort(key=lambda c: -len(c[0]))
        self._memo: dict[str, tuple[_Name, ...]] = {}

    def _candidates(self, word: str) -> tuple[_Name, ...]:
        """Names that may start at ``word`` (memoised: news vocabulary repeats, the prefix scan is costly)."""
        found = self._memo.get(word)
        if found is None:
            names = list(self.exact.get(word, ()))
            for k in range(1, min(len(word), self.max_stem) + 1):
                names.extend(self.stems.get(word[:k], ()))
            found = tuple(names)
            if len(self._memo) >= _MEMO_WORDS:
                self._memo.clear()
            self._memo[word] = found
        return found

    def find(self, folded: str) -> list[tuple[int, int, int]]:
        """(entry, start, end) spans, left to right, the longest name at each word."""
        words = [(m.group(0), m.start(), m.end()) for m in _SPACE_WORD.finditer(folded)]
        spans: list[tuple[int, int, int]] = []
        i = 0
        while i < len(words):
            best: _Name | None = None
            for name in self._candidates(words[i][0]):
                if i + len(name.tokens) > len(words) or (best is not None and name.size <= best.size):
                    continue
                if all(
                    words[i + j][0].startswith(lit) if stem else words[i + j][0] == lit
                    for j, (lit, stem) in enumerate(name.tokens)
                ):
                    best = name
            if best is None:
                i += 1
                continue
            last = i + len(best.tokens) - 1
            spans.append((best.entry, words[i][1], words[last][2]))
            i = last + 1
        if self.cjk and is_cjk(folded):
            taken: list[tuple[int, int]] = []
            for literal, entry in self.cjk:
                for m in re.finditer(re.escape(literal), folded):
                    if not any(s < m.end() and m.start() < e for s, e in taken):
                        taken.append((m.start(), m.end()))
                        spans.append((entry, m.start(), m.end()))
        return spans
