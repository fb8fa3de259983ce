"""Places a migration started from or passed through: "Kazakhs who fled Xinjiang", "left China in 1949",
«бежавшие из Китая», "Қытайдан көшіп келген", "Doğu Türkistan'dan göç eden", "从新疆迁往土耳其", "moved to
Sweden from Turkey", "via Iran".

Such a place names where a community came from, not where it lives. The gazetteer's country evidence
(:meth:`mediawatch.classify.gazetteer.Evidence.country_support`) sets these places aside when the text places
the community in another foreign country; when it names none (returnees' statistics: "qandas who moved from
Mongolia"), the place of origin is the community's country and stays.

Everything here reads *folded* text (:func:`mediawatch.classify.names.fold`): lower case, no diacritics,
Kazakh letters on their Russian neighbours except қ, apostrophes as spaces ("Türkistan'dan" is
``turkistan dan``).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from functools import cache, partial

from mediawatch.classify.names import fold

__all__ = ["about_persecution", "departure_spans", "destination_spans", "origin_spans", "origins_listed"]

# (part, start, end) of a place name in the folded texts; a start below 0: position unknown (an acronym)
Span = tuple[int, int, int]

# A verb of leaving, right before the place (articles and possessives in between): "fled Xinjiang",
# "fleeing the Soviet Union", "left their native Altai".
LEAVE_WORDS = frozenset(
    """
    fled flee flees fleeing left leave leaves leaving escaped escape escapes escaping abandoned
    покинули покинул покинула покинувшие покинувших покинув
    """.split()
)
# A verb that marks a departure only with "from" (из): "fled from", "migrated from", «переехавшие из». Not
# "came from" or "arrived from", the wording of returnee statistics, where the origin is the country counted.
FROM_VERBS = frozenset(
    """
    fled flee flees fleeing escaped escape escapes escaping emigrated emigrating migrated migrating deported
    expelled driven
    """.split()
)
FROM_VERB_STEMS = ("переех", "переезж", "беж", "сбеж", "убеж", "уех", "уезж", "выех", "эмигр", "мигрир",
                   "ушл", "ушед", "перебрал", "перебира", "выселе", "депортир",
                   # German, folded (geflüchtet is gefluchtet): "aus China geflohen", "flohen aus der Mongolei"
                   "geflohen", "floh", "gefluchtet", "fluchtet", "ausgewandert", "vertrieben", "umgesiedelt")
FROM_WORDS = frozenset({"from", "из", "aus"})
FILLERS = frozenset(
    "the their his her its our native homeland home out of communist soviet era then what is now"
    " der die dem den des".split()
)
# After "from X": a destination ("from Xinjiang to Turkey", «из Китая в Турцию»: the word then a place) or
# a settlement ("from the Altai before settling in Kayseri").
TO_WORDS = frozenset({"to", "into", "в", "во", "nach"})
SETTLE_WORDS = frozenset({"settling", "settled", "settle"})
# Words that continue a list of places ("fled China and Mongolia", "left Xinjiang, China"), with the figures
# of a statistic ("came from Uzbekistan (48 percent), China (21 percent) and Turkmenistan").
LIST_WORDS = frozenset(  # folded, as the text they are compared with (және is жане there)
    fold(word)
    for word in """
    and or as well и или а также мен пен бен және немесе ve veya und oder et ou e y va percent per cent pct
    процента процентов процент пайыз пайызы yuzde people persons families человек семей семьи адам отбасы
    kisi aile followed by then далее затем следом ardindan der die den dem des la le les
    """.split()
)
# A stage of a journey: "via Turkey", «через Иран», and German "über den Iran … nach Europa" (über also
# means "about", so only with a destination after it); Turkish "İran üzerinden". Not French "par", which is
# also "by" ("financé par l'Allemagne").
VIA_WORDS = frozenset({"via", "через"})
VIA_DE = "uber"  # folded über
VIA_TR = "uzerinden"  # folded üzerinden
LIST_GAP = 4
POSSESSIVE = frozenset({"s"})  # "from Mongolia's Bayan-Ölgii" (the apostrophe is folded to a space)
# Kazakh: the ablative case on the place, then a verb of moving or fleeing ("Қытайдан көшіп келген",
# "Моңғолиядан қашып"); Latin-script Kazakh is also read transliterated to Cyrillic.
KK_ABLATIVE = ("дан", "ден", "тан", "тен", "нан", "нен")
KK_VERB_STEMS = ("кош", "қаш", "босып", "босқан")
KK_VERBS = frozenset({"ауып", "ауган"})  # not a stem: Ауғанстан (Afghanistan) starts the same way
# Turkish: the ablative after the apostrophe ("Çin'den kaçan", "Doğu Türkistan'dan göç eden"); not bare
# "kaç", which also asks "how many".
TR_ABLATIVE = frozenset({"dan", "den", "tan", "ten", "ndan", "nden"})
TR_VERB_STEMS = ("goc", "kaca", "kact", "kacar", "kacip", "kacm", "kacis", "ayril", "firar", "muhacir")
# Chinese: 从新疆迁往…, 从蒙古国移居…, 逃离新疆, 离开中国.
ZH_FROM = ("从", "從", "自")
ZH_VERBS = ("迁", "遷", "逃", "移居", "移民", "出走", "流亡", "搬")
ZH_LEAVE = ("逃离", "逃離", "离开", "離開", "逃出", "出逃", "逃往")

# Where a migration went: a verb of migrating before "to"/«в» ("moved to Sweden", "immigrating to Canada",
# "fled via Iran and Turkey to Germany", «переехали в Германию»), "settled in Gävle", German "nach
# Deutschland ausgewandert", Turkish "Almanya'ya göç eden", Kazakh "Түркияға көшкен", 移居德国. Not "came" or
# "arrived", which are also the words of a visit ("came to Istanbul for the kurultai").
MOVE_VERBS = frozenset(
    """
    moved moving move moves fled flee flees fleeing emigrated emigrating emigrate immigrated immigrating
    immigrate migrated migrating relocated relocating resettled resettling settled settling
    """.split()
)
MOVE_STEMS = ("переех", "переезж", "переселил", "переселя", "эмигрир", "бежал", "бежав", "перебрал",
              "перебира", "уехал", "уехав", "уезжа")
MOVE_WINDOW = 6  # words between the verb and "to": "fled via Iran and Turkey to Germany"
BETWEEN_WORDS = frozenset({"on", "back", "eventually", "later", "finally", "first", "in", "with", "their",
                           "families", "потом", "затем", "позже"})
PASSIVE = frozenset({"was", "were", "been", "be", "is", "are", "being", "был", "была", "были", "было"})
SETTLE_IN = frozenset(
    fold(word) for word in "settled settling resettled resettling settle обосновались поселились осели".split()
)
IN_WORDS = frozenset({"in", "в", "во"})
DE_MOVE = ("zogen", "gezogen", "umgezogen", "flohen", "geflohen", "gefluchtet", "fluchteten", "ausgewandert",
           "auswanderten", "eingewandert", "einwanderten", "ubersiedelt", "ubersiedelten")
TR_DATIVE = frozenset({"ya", "ye", "a", "e", "na", "ne"})
TR_MOVE = ("goc", "yerles", "tasin")
KK_DATIVE = ("га", "ге", "қа", "ке")
KK_MOVE = ("кош", "қоныстан")  # folding keeps қ
ZH_TO = ("迁往", "遷往", "移居", "移民到", "移民至", "定居")

# Persecution: a text about camps, detention or repression concerns the community in the place it speaks of,
# even when the witnesses fled it ("Kazakhs who fled Xinjiang's camps testified in Geneva" is about Kazakhs in
# China). A refugee camp on the way («лагерь беженцев», the Kashmir camps of 1950) is not one. Read on folded
# text.
PERSECUTION = re.compile(
    r"(?<!refugee )\bcamps?\b|\bdetain|\bdetention|\bre ?educat|\bpersecut|\brepress|\bcrackdown|\binternment"
    r"|лагер(?![а-я]*\s+беженц)|задерж|репресс|преследов|т[уұ]тқын|қамау|қамал"
    r"|\bkamp(?:lar|larda|lara|ta|a)?\b|gozalti|\btutuk|\bzulum|\blager\b|internier|verfolg"
    r"|集中营|再教育|拘留|拘押|关押|迫害|镇压"
)

_WORD = re.compile(r"\S+")


def about_persecution(texts: Sequence[str]) -> bool:
    """Whether the (folded) texts speak of camps, detention or repression."""
    return any(PERSECUTION.search(text) for text in texts)


def _kk_ablative(word: str) -> bool:
    """A Kazakh ablative ending, not the -стан of a country's own name (Өзбекстан, but Өзбекстаннан)."""
    return word.endswith(KK_ABLATIVE) and not word.endswith("стан")


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in text)


def _following(text: str, end: int, limit: int = 4) -> list[tuple[str, int]]:
    """The next ``limit`` words after position ``end``, each with its start."""
    out: list[tuple[str, int]] = []
    for m in _WORD.finditer(text, end):
        out.append((m.group(0), m.start()))
        if len(out) == limit:
            break
    return out


def _after_from_is_move(after: list[tuple[str, int]], starts: set[int]) -> bool:
    """After "from X": a destination place (maybe after an article: "to the US"), a settlement, or (Russian
    word order, «из Китая переехали») the verb of moving."""
    words = [w for w, _ in after]
    if not words:
        return False
    if words[0] in TO_WORDS:
        rest = after[1:]
        while rest and rest[0][0] in FILLERS:
            rest = rest[1:]
        return bool(rest) and rest[0][1] in starts
    if any(w in SETTLE_WORDS for w in words[:3]):
        return True
    return words[0].startswith(FROM_VERB_STEMS)


def _departs_cjk(text: str, start: int, end: int) -> bool:
    before, after = text[max(0, start - 2):start], text[end:end + 4]
    if before.endswith(ZH_LEAVE):
        return True
    # 从新疆迁往, 从中国新疆迁往 (the nearer place is the one marked; the list rule extends it)
    return before.endswith(ZH_FROM) and after.startswith(ZH_VERBS)


def _preceding(text: str, start: int, limit: int = 4) -> list[tuple[str, int]]:
    """The last ``limit`` words before position ``start``, each with its start."""
    return [(m.group(0), m.start()) for m in _WORD.finditer(text, max(0, start - 40 * limit), start)][-limit:]


def _destination_after(text: str, end: int) -> bool:
    """Whether a word of destination ("nach") follows within a few words: "über den Iran nach Europa"."""
    return any(w in TO_WORDS for w, _ in _following(text, end, limit=6))


def _destination_before(text: str, at: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether a destination of a migration ends right before position ``at`` (the word "from"): "moved to
    Sweden from Turkey", «переехали в Германию из Турции». Not a visit: "came to Istanbul from Mongolia"."""
    for start, end in spans:
        if end <= at and not text[end:at].strip():
            preceding = _preceding(text, start)
            while preceding and preceding[-1][0] in FILLERS:
                preceding.pop()
            return bool(preceding) and preceding[-1][0] in TO_WORDS and _moved(text, preceding[-1][1], spans)
    return False


def _moved(text: str, at: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether a verb of migrating governs the word "to" (or «в») at position ``at``: walking back, only
    places, lists of them, "via" and words such as "on" or a year stand between ("fled via Iran and Turkey
    to", "moved on to", "emigrated in 1978 to"), and the verb is not passive ("the meeting was moved to")."""
    words = _preceding(text, at, limit=MOVE_WINDOW + 2)
    while words:
        word, start = words.pop()
        if (
            word in FILLERS or word in LIST_WORDS or word in VIA_WORDS or word in BETWEEN_WORDS or word.isdigit()
            or any(s <= start < e for s, e in spans)
        ):
            continue
        if word in MOVE_VERBS or word.startswith(MOVE_STEMS):
            return not (words and words[-1][0] in PASSIVE)
        return False
    return False


def _located(span: Span, texts: Sequence[str]) -> tuple[str, int, int, str] | None:
    """The folded text a place name stands in, its start and end, and the name; ``None`` when the position
    is unknown (an acronym)."""
    part, start, end = span
    if start < 0 or not 0 <= part < len(texts):
        return None
    return texts[part], start, end, texts[part][start:end]


def _departs(span: Span, texts: Sequence[str], spans: Sequence[tuple[int, int]]) -> bool:
    if (located := _located(span, texts)) is None:
        return False
    text, start, end, surface = located
    if _is_cjk(surface):
        return _departs_cjk(text, start, end)
    preceding = _preceding(text, start)
    after = _following(text, end)
    words = [w for w, _ in after]
    while preceding and preceding[-1][0] in FILLERS:
        preceding.pop()
    before = [w for w, _ in preceding]
    if before and before[-1] in LEAVE_WORDS:
        return True
    if before and (before[-1] in VIA_WORDS or (before[-1] == VIA_DE and _destination_after(text, end))):
        return True
    if words and words[0] == VIA_TR:
        return True
    if before and before[-1] in FROM_WORDS:
        if len(before) > 1 and (before[-2] in FROM_VERBS or before[-2].startswith(FROM_VERB_STEMS)):
            return True
        if _after_from_is_move(after, {s for s, _ in spans}):
            return True
        # the destination came first: "moved to Sweden from Turkey" (not "came to the congress from Mongolia")
        if _destination_before(text, preceding[-1][1], spans):
            return True
    last = surface.split()[-1] if surface.split() else ""
    if _kk_ablative(last) and words and (words[0].startswith(KK_VERB_STEMS) or words[0] in KK_VERBS):
        return True
    return len(words) > 1 and words[0] in TR_ABLATIVE and words[1].startswith(TR_VERB_STEMS)


def _listed_after(found: set[int], spans: Sequence[Span], texts: Sequence[str],
                  also: frozenset[str] = frozenset()) -> set[int]:
    """``found`` with the places listed right after one of them ("fled China and Mongolia"), and with the
    words in ``also`` allowed between them too.

    Each place found is compared once with the places of its part, reading the few words between them
    (:class:`_Words`): quadratic in the number of places. Rescanning every place after each one added, and
    slicing the whole text between each pair, was cubic (0.5 s for a text listing 200 names)."""
    found = set(found)
    words: dict[int, _Words] = {}  # per part, made when first needed
    todo = list(found)
    while todo:
        part, _, end = spans[todo.pop()]
        for n, (other_part, start, _) in enumerate(spans):
            if n in found or start < 0 or other_part != part or end > start:
                continue
            text = words.get(part) or words.setdefault(part, _Words(texts[part]))
            if text.listing(end, start, also):
                found.add(n)
                todo.append(n)
    return found


class _Words:
    """Where the words of one folded text start and end, so the words between two positions are read without
    reading everything between them: ``text[a:b].split()``, in a few steps however far apart ``a`` and ``b``
    are (each position is looked up once)."""

    def __init__(self, text: str) -> None:
        self.text = text
        words = list(_WORD.finditer(text))  # \S+: the words str.split() finds, whitespace being the same
        self.starts = [m.start() for m in words]
        self.ends = [m.end() for m in words]
        # at a position: the index of the first word ending after it, and the number of words starting before it
        self.first_after = cache(partial(bisect_right, self.ends))
        self.count_before = cache(partial(bisect_left, self.starts))

    def listing(self, a: int, b: int, also: frozenset[str]) -> bool:
        """Whether ``text[a:b]`` continues a list: at most ``LIST_GAP`` words, each a list word, one of
        ``also`` or a number."""
        if a < 0 or b <= a:  # counted from the end (no place found has such a position), or nothing between
            return _continues_list(self.text[a:b].split(), also)
        first, last = self.first_after(a), self.count_before(b)
        if last - first > LIST_GAP:
            return False
        # the words there, the first and last cut at a and b (a place may end or start inside a word)
        gap = [self.text[max(a, self.starts[k]):min(b, self.ends[k])] for k in range(first, last)]
        return _continues_list(gap, also)


def _continues_list(gap: list[str], also: frozenset[str]) -> bool:
    return len(gap) <= LIST_GAP and all(w in LIST_WORDS or w in also or w.isdigit() for w in gap)


def _marked(
    spans: Sequence[Span], texts: Sequence[str],
    test: Callable[[Span, Sequence[str], Sequence[tuple[int, int]]], bool],
) -> set[int]:
    """Indexes of ``spans`` that ``test`` marks, each read with the other place names of its part."""
    by_part: dict[int, list[tuple[int, int]]] = {}
    for part, start, end in spans:
        by_part.setdefault(part, []).append((start, end))
    return {n for n, span in enumerate(spans) if test(span, texts, by_part.get(span[0], []))}


def departure_spans(spans: Sequence[Span], texts: Sequence[str]) -> set[int]:
    """Indexes of ``spans`` (place names) that a text names as a point of departure, with the places listed
    right after one ("fled China and Mongolia")."""
    return _listed_after(_marked(spans, texts, _departs), spans, texts, also=POSSESSIVE)


def _arrives(span: Span, texts: Sequence[str], spans: Sequence[tuple[int, int]]) -> bool:
    if (located := _located(span, texts)) is None:
        return False
    text, start, end, surface = located
    if _is_cjk(surface):
        return text[max(0, start - 3):start].endswith(ZH_TO)
    preceding = _preceding(text, start)
    while preceding and preceding[-1][0] in FILLERS:
        preceding.pop()
    before = [w for w, _ in preceding]
    after = [w for w, _ in _following(text, end)]
    if before and before[-1] in TO_WORDS:
        if _moved(text, preceding[-1][1], spans):
            return True
        if before[-1] == "nach" and (
            any(w.startswith(DE_MOVE) for w in after) or (len(before) > 1 and before[-2].startswith(DE_MOVE))
        ):
            return True
    if len(before) > 1 and before[-1] in IN_WORDS and before[-2] in SETTLE_IN:
        return True
    if len(after) > 1 and after[0] in TR_DATIVE and after[1].startswith(TR_MOVE):
        return True
    last = surface.split()[-1] if surface.split() else ""
    return last.endswith(KK_DATIVE) and bool(after) and after[0].startswith(KK_MOVE)


def destination_spans(spans: Sequence[Span], texts: Sequence[str]) -> set[int]:
    """Indexes of ``spans`` that a text names as where a migration went ("moved to Sweden", "settled in
    Gävle", "nach Deutschland ausgewandert", "Almanya'ya göç eden"), with the places listed right after one
    ("moved to Germany and France")."""
    return _listed_after(_marked(spans, texts, _arrives), spans, texts)


def origins_listed(spans: Sequence[Span], texts: Sequence[str]) -> set[int]:
    """:func:`origin_spans` with the places listed after one, and a possessive's place ("from Mongolia's
    Bayan-Ölgii")."""
    return _listed_after(origin_spans(spans, texts), spans, texts, also=POSSESSIVE)


def origin_spans(spans: Sequence[Span], texts: Sequence[str]) -> set[int]:
    """Indexes of ``spans`` named as someone's origin at all: after "from"/«из», or in the Kazakh or Turkish
    ablative ("Қытайдан", "Çin'den"). A list of origins (returnees "from Mongolia, 21 percent from China")
    places no community elsewhere."""
    found: set[int] = set()
    for n, (part, start, end) in enumerate(spans):
        if start < 0 or not 0 <= part < len(texts):
            continue
        text = texts[part]
        if _is_cjk(text[start:end]):
            if text[max(0, start - 2):start].endswith(ZH_FROM + ZH_LEAVE):
                found.add(n)
            continue
        before = text[:start].split()[-3:]
        while before and before[-1] in FILLERS:
            before.pop()
        after = text[end:].split()[:1]
        last = (text[start:end].split() or [""])[-1]
        after_from = bool(before) and before[-1] in FROM_WORDS
        if after_from or _kk_ablative(last) or (bool(after) and after[0] in TR_ABLATIVE):
            found.add(n)
    return found
