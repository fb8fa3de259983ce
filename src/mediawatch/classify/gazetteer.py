"""A multi-script gazetteer: countries, regions, cities, community names and key vocabulary.

The data lives in ``data/gazetteer.yaml`` (operators may add names through an override file with the same
layout; lists are appended, mappings merged). Names are matched on folded text by
:mod:`mediawatch.classify.names` (case, diacritics and Kazakh/Russian letter differences folded away, ``*``
ending a stem, Chinese and Japanese names as substrings, the longest name winning at one place; ``казахов`` is
the Kazakh ethnonym, ``казак`` a Cossack). Acronyms (``US``, ``РФ``) match case-sensitively.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path

from mediawatch.classify.departures import (
    about_persecution,
    departure_spans,
    destination_spans,
    origin_spans,
    origins_listed,
)
from mediawatch.classify.names import NameMatcher, Parsed, declined_forms, fold, parse_name
from mediawatch.errors import ConfigError


class EntryKind(StrEnum):
    COUNTRY = "country"  # a country's own name
    PLACE = "place"  # a region or a city
    COMMUNITY = "community"  # a community, organisation or person tied to one country's Kazakhs
    DEMONYM = "demonym"  # an adjective (Mongolian, турецкий): weak evidence
    AMBIGUOUS = "ambiguous"  # a name shared by several countries (Altai): supports, never decides
    BLOCK = "block"  # names that hide a shorter match (Latin America, Europe)
    HOME = "home"  # Kazakhstan and its places
    KAZAKH = "kazakh"  # the ethnonym in any language
    DIASPORA = "diaspora"  # diaspora, compatriots, qandas, repatriation vocabulary
    OTHER_GROUP = "other_group"  # other peoples often confused with the Kazakh diaspora


COUNTRY_KINDS = frozenset({EntryKind.COUNTRY, EntryKind.PLACE, EntryKind.COMMUNITY})
PLACE_KINDS = COUNTRY_KINDS | {EntryKind.DEMONYM}  # names that place a community (tied or not)
TERM_KINDS = (EntryKind.KAZAKH, EntryKind.DIASPORA, EntryKind.OTHER_GROUP)


@dataclass(frozen=True, slots=True)
class Entry:
    label: str  # display name: the country code's name, the place or the term list
    kind: EntryKind
    countries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    surface: str  # the folded text that matched
    start: int
    end: int
    part: int = 0  # which rendering of the item (original, transliterated) it was found in
    people: bool = False  # a community name that holds the ethnonym ("Kazakhs of China"), not a place alone
    # ... with the ethnonym first ("Kazakhs of China", «казахи Китая»), so that a list may follow it; not
    # "Chinese Kazakhs" or «Моңғолия қазақтары», after which Kazakh and Turkish go on with the sentence
    opens: bool = False


# --- YAML data files ----------------------------------------------------------------------------------------


def load_yaml_mapping(text: str, source: str) -> dict[str, object]:
    """Parse YAML text whose top level must be a mapping (errors name ``source`` and the line)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        data = YAML(typ="safe").load(text)
    except MarkedYAMLError as exc:  # one line, SOURCE:LINE:COL, as the override files' errors
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        message = f"{where}: YAML syntax error: {' '.join(filter(None, [exc.context, exc.problem]))}"
        raise ConfigError(message) from exc
    except YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {' '.join(str(exc).split())}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping")
    return data


def merge_data(base: Mapping[str, object], extra: Mapping[str, object]) -> dict[str, object]:
    """``base`` updated by ``extra``: mappings merged key by key, lists appended, other values replaced."""
    merged: dict[str, object] = dict(base)
    for key, value in extra.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = merge_data(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            merged[key] = old + [v for v in value if v not in old]
        else:
            merged[key] = value
    return merged


# --- the gazetteer ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gazetteer:
    entries: tuple[Entry, ...]
    country_names: Mapping[str, str]  # ISO code -> English name
    home: str  # the country whose places are "domestic" (KZ)
    digest: str  # hash of the data, for cache keys and Classification.taxonomy_hash
    transit: frozenset[str]  # countries named mostly as routes of past migrations (count only when anchored)
    # One matcher per layer: places (with blocks), then each term list. Term layers also hold the place
    # names, so that "Kazakhstan" is not read as the ethnonym and "Kyrgyzstan" not as the Kyrgyz people.
    _layers: tuple[tuple[NameMatcher, frozenset[EntryKind]], ...] = field(repr=False, compare=False)
    # Acronyms (US, UK, РФ) match case-sensitively on the original text: folded, "US" would be "us".
    _acronyms: tuple[re.Pattern[str] | None, Mapping[str, int]] = field(
        repr=False, compare=False, default=(None, {})
    )

    def find(self, text: str, breaks: frozenset[int] | None = None) -> tuple[Hit, ...]:
        """All names found in ``text`` (folded first), by layer, the longest name at each place.

        No name runs across the end of a sentence (``breaks``, offsets in the folded text; worked out here
        when not given): "…arrival from Xinjiang. Kazakh families…" holds Xinjiang, not "Xinjiang Kazakhs".
        """
        folded = fold(text)
        if breaks is None:
            breaks = sentence_breaks(text, folded)
        cuts = sorted(breaks)
        segments = list(zip([0, *(k + 1 for k in cuts)], [*cuts, len(folded)], strict=True))
        hits: list[Hit] = []
        pattern, acronyms = self._acronyms
        if pattern is not None:
            original = unicodedata.normalize("NFKC", text)
            for m in pattern.finditer(original):
                # positions of acronym hits refer to the original text: keep them out of adjacency checks
                hits.append(Hit(self.entries[acronyms[m.group(0)]], m.group(0), -10, -10))
        for matcher, reported in self._layers:
            found = (
                (index, a + start, a + end) for a, b in segments for index, start, end in matcher.find(folded[a:b])
            )
            for index, start, end in found:
                entry = self.entries[index]
                if entry.kind in reported:
                    surface = folded[start:end]
                    people = entry.kind is EntryKind.COMMUNITY and self._holds_ethnonym(surface)
                    opens = people and self._opens(surface)
                    hits.append(Hit(entry, surface, start, end, people=people, opens=opens))
        # another people's name inside a longer name of the Kazakhs is not that people: Kyrgyz "казак тили" (the
        # Kazakh language) holds Russian "казак" (a Cossack)
        kazakh = [(h.start, h.end) for h in hits if h.entry.kind is EntryKind.KAZAKH and h.start >= 0]
        # and the ethnonym inside another group's name is not the Kazakhs: Persian "بریگاد قزاق" (the Cossack
        # Brigade) holds قزاق, the Kazakhs' name too
        other = [(h.start, h.end) for h in hits if h.entry.kind is EntryKind.OTHER_GROUP and h.start >= 0]
        kept: list[Hit] = []
        for hit in hits:
            states = self._relation(hit, folded)
            kept.extend([hit] if states is None else states)
        return tuple(
            h for h in kept
            if not (
                h.entry.kind is EntryKind.OTHER_GROUP
                and any(a <= h.start and h.end <= b and (a, b) != (h.start, h.end) for a, b in kazakh)
            )
            and not (
                h.entry.kind is EntryKind.KAZAKH
                and h.start >= 0
                and any(a <= h.start and h.end <= b for a, b in other)
            )
        )

    def _holds_ethnonym(self, surface: str) -> bool:
        """Whether a word of a (folded) community name is the Kazakhs' own name ("kazakhs" in "kazakhs of
        china"). A Chinese name is one word, matched as a whole: it counts as a place."""
        for matcher, reported in self._layers[1:]:
            if EntryKind.KAZAKH in reported:
                return any(
                    self.entries[index].kind is EntryKind.KAZAKH
                    for word in surface.split()
                    for index, _, _ in matcher.find(word)
                )
        return False

    def _opens(self, surface: str) -> bool:
        """Whether a (folded) community name starts with the ethnonym and ends with a place: "kazakhs of
        china", «казахи китая», after which a list may go on. Not "chinese kazakhs" or «моңғолия қазақтары»
        (Kazakh and Turkish go on with the sentence), nor an organisation ("kazak kultur dernegi")."""
        words = surface.split()
        if len(words) < 2 or not self._holds_ethnonym(words[0]):
            return False
        places = self._layers[0][0]
        return any(
            self.entries[index].kind in COUNTRY_KINDS and end == len(words[-1])
            for index, _, end in places.find(words[-1])
        )

    def _relation(self, hit: Hit, folded: str) -> list[Hit] | None:
        """``None``, or, when ``hit`` is a demonym or community name inside an adjective of two states, the
        state names in it (the home state's, which still counts as such).

        A Russian compound in its joining form (российско-казахстанской, узбекско-, казахстанско-китайской)
        names a relation of two states or languages; a community name whose "ethnonym" is the home state's
        adjective (Russian-Kazakhstani, китайско-казахстанской: the stem Kazakh* matches those too) names no
        community.
        """
        kind = hit.entry.kind
        if kind not in (EntryKind.DEMONYM, EntryKind.COMMUNITY, EntryKind.COUNTRY) or hit.start < 0:
            return None
        before = folded[max(0, hit.start - 40) : hit.start].split()[-1:]  # the word before (its end suffices)
        if kind is not EntryKind.COMMUNITY and before and _joining(before[0]):
            return []  # the second half of a compound (казахстанско-китайской, казахстанско-российские)
        if kind is EntryKind.COUNTRY:
            return None
        words = hit.surface.split()
        places = self._layers[0][0]
        states: list[Hit] = []
        offset = hit.start
        for word in words:
            states.extend(
                Hit(self.entries[index], word, offset, offset + len(word))
                for index, start, end in places.find(word)
                if self.entries[index].kind is EntryKind.HOME and (start, end) == (0, len(word))
            )
            offset += len(word) + 1
        return states if _joining(words[0]) or (hit.entry.kind is EntryKind.COMMUNITY and states) else None


# The joining form of a Russian compound adjective (российско-, китайско-, узбекско-казахстанский): it names a
# relation of two states or languages, never where a community lives.
_JOINING_FORM = re.compile(r"(?:ск|цк)о$")


def _joining(word: str) -> bool:
    return not word.isascii() and _JOINING_FORM.search(word) is not None


def _entries_from(
    data: Mapping[str, object], source: str
) -> tuple[list[Entry], list[tuple[int, str]], dict[str, str], str, dict[str, int]]:
    entries: list[Entry] = []
    names: list[tuple[int, str]] = []
    country_names: dict[str, str] = {}
    acronyms: dict[str, int] = {}
    home = str(data.get("home", "KZ"))

    def add(entry: Entry, values: object, where: str) -> None:
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise ConfigError(f"{source}: {where} must be a list of non-empty strings")
        entries.append(entry)
        names.extend((len(entries) - 1, v) for v in values)

    countries = data.get("countries", {})
    if not isinstance(countries, Mapping):
        raise ConfigError(f"{source}: 'countries' must be a mapping of ISO codes")
    for code, spec in countries.items():
        code = str(code)
        if not re.fullmatch(r"[A-Z]{2}", code) or not isinstance(spec, Mapping):
            raise ConfigError(
                f"{source}: countries.{code}: expected an ISO 3166-1 alpha-2 code with a mapping"
            )
        label = str(spec.get("name", code))
        country_names[code] = label
        is_home = code == home
        add(
            Entry(label, EntryKind.HOME if is_home else EntryKind.COUNTRY, (code,)),
            spec.get("names", []),
            f"countries.{code}.names",
        )
        if spec.get("acronyms"):
            values = spec["acronyms"]
            if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
                raise ConfigError(f"{source}: countries.{code}.acronyms must be a list of non-empty strings")
            for value in values:
                acronyms[value.strip()] = len(entries) - 1
        if spec.get("demonyms"):
            add(
                Entry(label, EntryKind.HOME if is_home else EntryKind.DEMONYM, (code,)),
                spec["demonyms"],
                f"countries.{code}.demonyms",
            )
        for key, kind in (("places", EntryKind.PLACE), ("communities", EntryKind.COMMUNITY)):
            group = spec.get(key, {})
            if not isinstance(group, Mapping):
                raise ConfigError(f"{source}: countries.{code}.{key} must map a name to a list of spellings")
            for place, spellings in group.items():
                add(
                    Entry(str(place), EntryKind.HOME if is_home else kind, (code,)),
                    spellings,
                    f"countries.{code}.{key}.{place}",
                )
    ambiguous = data.get("ambiguous", {})
    if not isinstance(ambiguous, Mapping):
        raise ConfigError(f"{source}: 'ambiguous' must be a mapping")
    for label, spec in ambiguous.items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("countries"), list):
            raise ConfigError(f"{source}: ambiguous.{label} needs 'countries' and 'names'")
        add(
            Entry(str(label), EntryKind.AMBIGUOUS, tuple(str(c) for c in spec["countries"])),
            spec.get("names"),
            f"ambiguous.{label}.names",
        )
    if data.get("block"):
        add(Entry("block", EntryKind.BLOCK, ()), data["block"], "block")
    terms = data.get("terms", {})
    if not isinstance(terms, Mapping):
        raise ConfigError(f"{source}: 'terms' must be a mapping")
    for kind in TERM_KINDS:
        if terms.get(kind.value):
            add(Entry(kind.value, kind, ()), terms[kind.value], f"terms.{kind.value}")
    unknown = set(terms) - {k.value for k in TERM_KINDS}
    if unknown:
        raise ConfigError(f"{source}: unknown term lists {sorted(unknown)}")
    return entries, names, country_names, home, acronyms


def build_gazetteer(data: Mapping[str, object], source: str = "gazetteer") -> Gazetteer:
    """Compile gazetteer data (the YAML layout) into a matcher."""
    entries, names, country_names, home, acronyms = _entries_from(data, source)
    seen: dict[Parsed, int] = {}
    places: tuple[list[Parsed], list[int]] = ([], [])
    terms: dict[EntryKind, tuple[list[Parsed], list[int]]] = {k: ([], []) for k in TERM_KINDS}

    def claim(parsed: Parsed, index: int) -> None:
        seen[parsed] = index
        target = terms.get(entries[index].kind, places)
        target[0].append(parsed)
        target[1].append(index)

    for index, name in names:
        parsed = parse_name(name, source)
        if not parsed:
            raise ConfigError(f"{source}: name {name!r} has no letters")
        if parsed in seen:
            other = entries[seen[parsed]]
            # the same place of the same country listed twice (an operator's override file naming a place that a
            # later packaged version lists too, perhaps as a community): the first listing stands
            same_place = (other.label, other.countries) == (entries[index].label, entries[index].countries)
            if not same_place:
                raise ConfigError(
                    f"{source}: name {name!r} is listed for both {other.label} ({other.kind}) and "
                    f"{entries[index].label} ({entries[index].kind}); list it under 'ambiguous' instead"
                )
            continue
        claim(parsed, index)
    for index, name in names:  # then the Russian case forms, where no listed name claims them
        for form in declined_forms(name):
            parsed = parse_name(form, source)
            if parsed and parsed not in seen:
                claim(parsed, index)
    layers = [(NameMatcher(*places), frozenset(EntryKind) - frozenset(TERM_KINDS))]
    for kind in TERM_KINDS:
        layers.append((NameMatcher(places[0] + terms[kind][0], places[1] + terms[kind][1]), frozenset({kind})))
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
    pattern = None
    if acronyms:
        alternatives = "|".join(re.escape(a) for a in sorted(acronyms, key=lambda a: (-len(a), a)))
        pattern = re.compile(rf"(?<![\w.])(?:{alternatives})(?![\w])")
    transit = data.get("transit") or []
    if not isinstance(transit, list):
        raise ConfigError(f"{source}: 'transit' must be a list of country codes")
    return Gazetteer(
        tuple(entries),
        country_names,
        home,
        hashlib.sha256(blob).hexdigest()[:16],
        frozenset(str(c) for c in transit),
        tuple(layers),
        (pattern, acronyms),
    )


def load_packaged(name: str, override: Path | None) -> tuple[dict[str, object], str]:
    """The packaged ``data/NAME`` merged with an operator's override file when given (checked first, its
    problems as ``FILE:LINE:COL`` lines), and a source label naming both for error messages."""
    packaged = resources.files("mediawatch.classify").joinpath(f"data/{name}")
    data = load_yaml_mapping(packaged.read_text(encoding="utf-8"), f"{name} (packaged)")
    if override is None:
        return data, name
    from mediawatch.classify.overrides import load_override

    return merge_data(data, load_override(override, name, data)), f"{name} + {override}"


def load_gazetteer(override: Path | None = None) -> Gazetteer:
    """The packaged gazetteer, merged with an operator's override file when given."""
    return build_gazetteer(*load_packaged("gazetteer.yaml", override))


# --- evidence -----------------------------------------------------------------------------------------------


def folded_words(text: str) -> frozenset[str]:
    """The words of ``text`` as they appear in folded text (``және`` is ``жане`` there, ``yaşayan`` is
    ``yasayan``): word lists are compared with folded text, so they must be folded too."""
    return frozenset(fold(word) for word in text.split())


# Words that may stand between names of one list ("Mongolia, China and Turkey"; punctuation is folded away).
# The Chinese ones only join a list: 与 and 和 also mean "with" (蒙古国哈萨克族与中国代表会谈).
LIST_ONLY = folded_words("和 及 与 與 以及")
CONNECTORS = LIST_ONLY | folded_words(
    """
    and or as well also from of in to the и или а также из в мен пен бен және немесе ve veya ile und
    oder et ou e y va yoki ham hem da de ва der die das den dem des la le les
    """
)
# Words that may stand between the ethnonym (or a diaspora term) and a place that it ties to the community:
# "Kazakhs of Mongolia", "Kazakhs living in Omsk", "Kazakh families in the Netherlands", "Kazakh students
# in Prague", "Afghanistan's ethnic Kazakhs", "Çin'deki Kazaklar", "蒙古国的哈萨克族", and the community's own
# places: "a Kazakh-medium school in Mongolia", «казахское село в Оренбургской области». A verb in between
# ("refugees crossed Pakistan") breaks the tie, and so does a word for a thing ("Kazakh exports to China") or
# for the state's institutions ("the Kazakh embassy in Turkey").
ANCHOR_WORDS = (CONNECTORS - LIST_ONLY) | folded_words(
    """
    s who that which living live lives lived settled moved residing resident based born families family
    now today currently around ныне сейчас сегодня теперь heute jetzt
    community communities people diaspora origin ethnic descent живущие живущих живущим проживающие
    проживающих проживающий семьи семей община общины диаспора диаспоры на по со тұратын тұрған
    қоныстанған отбасылары қауымы deki daki teki taki den dan ten tan li lı lu lü yaşayan aus der die
    den dem im lebende lebenden leben wohnen wohnende wohnenden familien familie gemeinschaft gemeinde
    的 在
    students student pupils youth women elders children herders nomads craftsmen artisans artists musicians
    singers poets writers scholars teachers entrepreneurs businessmen businesspeople refugees migrants
    emigrants returnees activists organisations organizations associations societies groups
    студенты студентов учащиеся молодёжь молодежь молодежи женщины дети предприниматели бизнесмены
    художники музыканты писатели беженцы мигранты организации общества объединения
    studenten schüler jugendliche frauen kinder unternehmer künstler flüchtlinge vereine verbände
    school schools mosque mosques village villages aul auls medium language
    школа школы школ школе школу мечеть мечети село села сёла аул аулы schule schulen moschee dorf dörfer
    """
)
ANCHOR_GAP = 3  # at most this many such words


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the gazetteer found in one text, summarised for the tagger."""

    hits: tuple[Hit, ...]
    home: str
    texts: tuple[str, ...] = ()  # the folded texts the positions refer to, one per part
    transit: frozenset[str] = frozenset()  # countries that count only when anchored (see gazetteer.yaml)
    breaks: tuple[frozenset[int], ...] = ()  # per part: offsets in the folded text where a sentence ended
    # A place's later mentions in the same text, with the index of its hit in ``hits``: counted once, but
    # each mention can be tied where it stands
    repeats: tuple[tuple[int, Hit], ...] = ()

    def of_kind(self, *kinds: EntryKind) -> tuple[Hit, ...]:
        return tuple(h for h in self.hits if h.entry.kind in kinds)

    def has(self, kind: EntryKind) -> bool:
        return any(h.entry.kind is kind for h in self.hits)

    def _gap(self, a: Hit, b: Hit) -> list[str] | None:
        """Words between two hits of the same text (``None`` if they are in different texts or overlap)."""
        if a.part != b.part or a.start < 0 or b.start < 0 or not 0 <= a.part < len(self.texts):
            return None
        first, second = (a, b) if a.start <= b.start else (b, a)
        if second.start < first.end:
            return None
        if a.part < len(self.breaks) and any(first.end <= k <= second.start for k in self.breaks[a.part]):
            return None  # "Kazakhs of Mongolia. China and Russia signed…": not one phrase
        return self.texts[a.part][first.end : second.start].split()

    def anchored(self) -> set[int]:
        """Indexes of place hits tied to the community.

        A place is tied when it stands next to the ethnonym or a diaspora term ("Kazakhs of Mongolia",
        "Afghanistan's ethnic Kazakhs", "Kazakh families in the Netherlands"), is a community name holding the
        ethnonym, or is listed right after a tied place ("Kazakhs from Mongolia, China and Turkey") or, with a
        connecting word, after such a community name ("Kazakhs of China and Mongolia"). Right after a
        community name that starts with the ethnonym, a list that a connecting word closes is tied without
        one ("Kazakhs of China, Mongolia and Turkey", «казахи Китая, Монголии и Турции»). Each mention of a
        place is read where it stands; the place is tied when one of its mentions is.
        """
        anchors = self.of_kind(EntryKind.KAZAKH, EntryKind.DIASPORA)
        # every mention of a place: (index of the place's hit, the mention)
        places = [
            (n, h)
            for n, h in [*enumerate(self.hits), *self.repeats]
            if h.entry.kind in PLACE_KINDS
        ]
        # a community name with the ethnonym ("Kazakhs of China") is tied by itself, and a list it opens with a
        # word such as "and" ties the names after it ("Kazakhs of China and Mongolia"). Nothing between them
        # is no list: the punctuation is folded away, so that is also "Kazakhs in Mongolia. China closed...",
        # or a destination in verb-last Kazakh and Turkish ("Моңғолия қазақтары Қытайға көшті").
        # A community place alone (Bayan-Ölgii) is not tied.
        named = {i for i, (_, hit) in enumerate(places) if hit.people}
        tied: set[int] = set()  # mentions, by index in ``places``
        for i, (_, hit) in enumerate(places):
            for anchor in anchors:
                gap = self._gap(hit, anchor)
                if gap is not None and len(gap) <= ANCHOR_GAP and all(w in ANCHOR_WORDS for w in gap):
                    tied.add(i)
                    break

        def listed(a: Hit, b: Hit) -> list[str] | None:
            gap = self._gap(a, b)
            return gap if gap is not None and len(gap) <= 3 and all(w in CONNECTORS for w in gap) else None

        def closed(k: int) -> bool:
            """Whether the names listed after ``places[k]`` end with a connecting word ("…, Mongolia and
            Turkey"): then ``places[k]`` is in a list, not the start of a new sentence."""
            seen = {k}
            while True:
                here = places[k][1]
                after = [
                    (other.start, j, gap)
                    for j, (_, other) in enumerate(places)
                    if j not in seen and other.start >= here.end and (gap := listed(here, other)) is not None
                ]
                if not after:
                    return False
                _, k, gap = min(after, key=lambda a: a[0])
                if gap:
                    return True
                seen.add(k)

        changed = True
        while changed:
            changed = False
            for i, (_, hit) in enumerate(places):
                if i in tied:
                    continue
                for j, (_, other) in enumerate(places):
                    gap = listed(hit, other) if j in tied or j in named else None
                    if gap is not None and (
                        gap or j in tied or (other.opens and other.end <= hit.start and closed(i))
                    ):
                        tied.add(i)
                        changed = True
                        break
        return {places[i][0] for i in tied | named}

    def _place_spans(self) -> tuple[list[int], list[tuple[int, int, int]]]:
        places = [n for n, h in enumerate(self.hits) if h.entry.kind in PLACE_KINDS]
        return places, [(self.hits[n].part, self.hits[n].start, self.hits[n].end) for n in places]

    def country_support(self) -> dict[str, list[str]]:
        """Countries (never the home country) where the text places the community, with supporting names.

        * Country names, places and community names are evidence; an adjective ("Mongolian") only when it is
          anchored to the ethnonym or when nothing stronger names a country.
        * When some names are anchored to the community or are community names (Bayan-Ölgii, "Kazakhs of
          Turkey"), only those countries count: other countries in the text are then context (a route of
          migration, a partner in a deal).
        * Transit countries (``transit`` in the data: Pakistan, India) count only when anchored.
        * A place named as where a migration started ("families who fled Xinjiang settled in Kayseri") is
          context when, without it, the text still places the community in another foreign country by a name
          that is not itself an origin ("from China"). Otherwise (returnees "who moved from Mongolia",
          statistics of returnees by origin) the places of origin are the community's countries, and so
          they are in a text about camps, detention or repression (witnesses who fled Xinjiang speak of the
          Kazakhs of China). See :mod:`mediawatch.classify.departures`.
        * A foreign place named as where a migration went ("moved to Sweden", "immigrating to Canada",
          "nach Deutschland ausgewandert") is where the community lives: the places it came from ("from
          Turkey", "Kazakhs from Mongolia's Bayan-Ölgii") or passed through ("via Iran") are then context, as
          long as the destination still counts without them.
        * A name shared by several countries (Altai) only adds to a country already supported.
        """
        places, spans = self._place_spans()
        departed = {places[k] for k in departure_spans(spans, self.texts)}
        arrived = {
            places[k]
            for k in destination_spans(spans, self.texts)
            if self.hits[places[k]].entry.countries[0] != self.home
        }
        if (departed or arrived) and about_persecution(self.texts):
            return self._support(set())
        if arrived:
            # the community went abroad ("moved to Sweden from Turkey", "immigrating to Canada"): where it
            # came from and passed through is context, the destination is where it lives
            origins = {places[k] for k in origins_listed(spans, self.texts)}
            support = self._support((departed | origins) - arrived)
            if any(self.hits[n].entry.countries[0] in support for n in arrived):
                return support
        if departed:
            origins = {places[k] for k in origin_spans(spans, self.texts)}
            support = self._support(departed)
            settled = {
                self.hits[n].entry.countries[0]
                for n in places
                if n not in departed and n not in origins
            }
            if settled & set(support):
                return support
        return self._support(set())

    def _support(self, skip: set[int]) -> dict[str, list[str]]:
        tied = self.anchored()
        strong: dict[str, list[str]] = {}
        weak: dict[str, list[str]] = {}
        focus: dict[str, list[str]] = {}
        for n, hit in enumerate(self.hits):
            kind = hit.entry.kind
            if n in skip or kind not in PLACE_KINDS:
                continue
            code = hit.entry.countries[0]
            is_focus = n in tied or kind is EntryKind.COMMUNITY
            if code in self.transit and not is_focus:
                continue
            if is_focus:
                focus.setdefault(code, []).append(hit.surface)
            (strong if kind in COUNTRY_KINDS or is_focus else weak).setdefault(code, []).append(hit.surface)
        focus.pop(self.home, None)
        strong.pop(self.home, None)
        weak.pop(self.home, None)
        support = {code: strong[code] for code in focus} if focus else (strong or weak)
        for hit in self.of_kind(EntryKind.AMBIGUOUS):
            for code in hit.entry.countries:
                if code in support:
                    support[code].append(hit.surface)
        return support


# a sentence's end: . ! ? … (closing quotes or brackets may follow), then a space and the next sentence
_STOP = re.compile(r"[.!?…]+[\"'»”’)\]]*(?=\s)")
# always an end: ideographic and fullwidth stops; a clause or headline break: ; | a spaced dash, a line break
_BREAK = re.compile(r"[。！？．｡]+|\s*[;|]\s*|\s+[–—]\s+|[ \t]*\n\s*")
_OPENERS = "\"'«“„‘([ \t\n"
# words whose full stop ends no sentence before a capital ("St. Petersburg", «г. Омск», «ул. Абая»)
ABBREVIATIONS = frozenset(
    "st mt ft dr mr mrs ms prof gen gov sen rep jr sr no nr vol ste г гг ул им св ст проф д обл".split()
)


def sentence_breaks(text: str, folded: str) -> frozenset[int]:
    """Offsets in ``folded`` (``fold(text)``) where a sentence or clause of ``text`` ended: at . ! ? …
    (closing quotes or brackets may follow) before a space and a capital letter, a digit or a letter of a
    script without capitals (Chinese, Arabic), so "U.S. and Canada" goes on; and always at 。！？, ; | a
    spaced dash and a line break. Empty when the pieces do not fold back into ``folded`` exactly (then
    nothing is cut)."""
    ends = [m.end() for m in _BREAK.finditer(text)]
    for m in _STOP.finditer(text):
        word = text[max(0, m.start() - 12) : m.start()].split()
        if m.group(0) == "." and word and fold(word[-1]) in ABBREVIATIONS:
            continue  # "St. Petersburg", "Dr. Aliyev", «г. Омск»
        following = text[m.end() : m.end() + 6].lstrip(_OPENERS)[:1]
        caseless = following.isalpha() and following.upper() == following.lower()
        if following and (following.isupper() or following.isdigit() or caseless):
            ends.append(m.end())
    cuts = [0, *sorted(set(ends))]
    if len(cuts) == 1:
        return frozenset()
    pieces = [fold(text[a:b]) for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True)]
    offsets: list[int] = []
    joined = ""
    for piece in pieces:
        if not piece:
            continue
        if joined:
            offsets.append(len(joined))
            joined += " "
        joined += piece
    return frozenset(offsets) if joined == folded else frozenset()


MAX_REPEATS = 2  # later mentions of one place that are read (a tag cloud names one 50 times)


def evidence(gazetteer: Gazetteer, texts: Iterable[str]) -> Evidence:
    """Gazetteer hits over several renderings of one item (original and transliterated), de-duplicated."""
    first: dict[tuple[str, str, str], int] = {}  # a name's first hit, by index in ``hits``
    hits: list[Hit] = []
    repeats: list[tuple[int, Hit]] = []
    read_again: dict[int, int] = {}  # later mentions kept, by the name's index in ``hits``
    folded: list[str] = []
    breaks: list[frozenset[int]] = []
    for part, text in enumerate(texts):
        folded.append(fold(text))
        breaks.append(sentence_breaks(text, folded[-1]))
        for hit in gazetteer.find(text, breaks[-1]):
            key = (hit.entry.label, hit.entry.kind, hit.surface)
            if key not in first:
                first[key] = len(hits)
                hits.append(replace(hit, part=part))
            elif (
                part == hits[n := first[key]].part
                and hit.entry.kind in PLACE_KINDS
                and read_again.get(n, 0) < MAX_REPEATS
            ):
                read_again[n] = read_again.get(n, 0) + 1
                repeats.append((n, replace(hit, part=part)))  # a place named again
    return Evidence(
        tuple(hits), gazetteer.home, tuple(folded), gazetteer.transit, tuple(breaks), tuple(repeats)
    )
