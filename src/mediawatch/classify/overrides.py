"""The operator's override files for the taxonomy and the gazetteer (``MEDIAWATCH_TAXONOMY``,
``MEDIAWATCH_GAZETTEER``): read and checked as the sources file is, before they are merged into the packaged
data.

A file that is not UTF-8, not YAML, or whose keys or values do not fit the layout (a misspelled key such as
``cuez``, a country code that is not ISO 3166-1 alpha-2, a topic id no feed can be named after) is refused as
a whole: :class:`~mediawatch.errors.ConfigError` with one ``FILE:LINE:COL: path: problem`` line per problem.
What only the merged data can tell (a name listed for two countries) is checked when the merged data is built.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from mediawatch.codes import TOPIC_ID, is_country, is_language
from mediawatch.errors import ConfigError
from mediawatch.yamltree import (
    TooManyValues,
    node_position,
    parse_yaml_tree,
    plain_data,
    read_yaml_text,
    value_position,
)

__all__ = ["TOPIC_ID", "load_override"]

MAX_OVERRIDE_BYTES = 4 * 1024 * 1024  # the packaged files are 25 and 50 KB
MAX_OVERRIDE_VALUES = 1_000_000  # values after aliases are expanded

Position = tuple[int, int]
Check = Callable[[Any, str, Position, list[tuple[int, int, str]]], None]


def load_override(path: Path, name: str, packaged: Mapping[str, object]) -> dict[str, object]:
    """The override file at ``path`` for the packaged ``name`` (``taxonomy.yaml`` or ``gazetteer.yaml``) as
    plain data, checked against the layout; ``packaged`` is the packaged data (a new topic needs what a
    packaged one already has). Keys left empty (``cues:``) add nothing."""
    what = f"a {name.removesuffix('.yaml')} override file"
    text = read_yaml_text(path, max_bytes=MAX_OVERRIDE_BYTES, what=what)
    tree = parse_yaml_tree(text, path, what=what)
    if tree is None:
        return {}
    try:
        plain_data(tree, MAX_OVERRIDE_VALUES)  # bounds the walk below too: aliases share nodes
    except (TooManyValues, RecursionError):
        message = (f"{path}:1:1: the file holds more than {MAX_OVERRIDE_VALUES} values once its aliases (*name) "
                   f"are expanded")
        raise ConfigError(message, [message]) from None
    problems: list[tuple[int, int, str]] = []
    check = _taxonomy(packaged) if name == "taxonomy.yaml" else _gazetteer(packaged)
    check(tree, "", node_position(tree), problems)
    if problems:
        problems.sort()
        lines = [f"{path}:{line}:{col}: {message}" for line, col, message in problems]
        raise ConfigError("; ".join(lines), lines)  # one line in a log, each on its own line from the CLI
    return _without_empty(plain_data(tree, MAX_OVERRIDE_VALUES))


def _without_empty(data: Any) -> Any:
    """Mapping keys left empty (``cues:`` with its lines commented out) dropped: merged, they would replace the
    packaged list with nothing."""
    if isinstance(data, dict):
        return {k: _without_empty(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_without_empty(v) for v in data]
    return data


# ---------------------------------------------------------------------------------------------- the checks


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _fields(fields: Mapping[str, Check], *, required: Collection[str] = ()) -> Check:
    """A mapping with these keys (each checked by its own check), ``required`` ones included."""

    def check(node: Any, path: str, pos: Position, problems: list[tuple[int, int, str]]) -> None:
        if not isinstance(node, dict):
            problems.append((*pos, f"{path or '(file)'}: expected a mapping with the keys {', '.join(fields)}"))
            return
        for key, value in node.items():
            where = _join(path, key)
            if key not in fields:
                problems.append((*value_position(node, key, of_key=True),
                                 f"{where}: unknown key {key!r}; allowed keys: {', '.join(fields)}"))
            elif value is not None or key in required:
                fields[key](value, where, value_position(node, key), problems)
        for key in required:
            if key not in node:
                problems.append((*pos, f"{path}: '{key}' is required"))

    return check


def _each(key_check: Callable[[Any], str | None], value_check: Check) -> Check:
    """A mapping of free keys (topic ids, country codes, place names): each key checked by ``key_check``
    (None, or the problem), each value by ``value_check``."""

    def check(node: Any, path: str, pos: Position, problems: list[tuple[int, int, str]]) -> None:
        if not isinstance(node, dict):
            problems.append((*pos, f"{path}: expected a mapping"))
            return
        for key, value in node.items():
            where = _join(path, key)
            problem = key_check(key)
            if problem is not None:
                problems.append((*value_position(node, key, of_key=True), f"{where}: {problem}"))
            elif value is not None:  # a key left empty (its lines commented out) adds nothing
                value_check(value, where, value_position(node, key), problems)

    return check


def _list_of(item: Check, *, what: str) -> Check:
    def check(node: Any, path: str, pos: Position, problems: list[tuple[int, int, str]]) -> None:
        if not isinstance(node, list):
            problems.append((*pos, f"{path}: expected a list of {what}"))
            return
        for index, value in enumerate(node):
            try:
                line, col = node.lc.item(index)
                at = (line + 1, col + 1)
            except (AttributeError, KeyError, TypeError):
                at = pos
            item(value, f"{path}[{index}]", at, problems)

    return check


def _text(node: Any, path: str, pos: Position, problems: list[tuple[int, int, str]]) -> None:
    if not isinstance(node, str) or not node.strip():
        problems.append((*pos, f"{path}: expected non-empty text, got {_shown(node)}"))


def _country(node: Any, path: str, pos: Position, problems: list[tuple[int, int, str]]) -> None:
    problem = _country_problem(node)
    if problem is not None:
        problems.append((*pos, f"{path}: {problem}"))


def _language(node: Any, path: str, pos: Position, problems: list[tuple[int, int, str]]) -> None:
    if not isinstance(node, str) or not (node == "und" or is_language(node)):
        problems.append((*pos, f"{path}: {_shown(node)} is not an ISO 639-1 language code (kk, ru, zh, kk-Arab, …)"))


def _country_problem(code: object) -> str | None:
    if isinstance(code, str) and is_country(code):
        return None
    if isinstance(code, str) and is_country(code.upper()):
        return f"{code!r}: write the country code in upper case ({code.upper()})"
    return f"{_shown(code)} is not an ISO 3166-1 alpha-2 country code (KZ, CN, MN, …)"


def _shown(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value if isinstance(value, str) else str(value))


_NAMES = _list_of(_text, what="names")


def _gazetteer(packaged: Mapping[str, object]) -> Check:
    from mediawatch.classify.gazetteer import TERM_KINDS

    taken = _spellings(packaged)
    layout = _fields({
        "name": _text, "names": _NAMES, "acronyms": _NAMES, "demonyms": _NAMES,
        "places": _each(_name_key, _NAMES), "communities": _each(_name_key, _NAMES),
    })

    def country(node: Any, path: str, pos: Position, problems: list[tuple[int, int, str]]) -> None:
        before = len(problems)
        layout(node, path, pos, problems)
        if len(problems) == before:  # the layout is right: do its names point elsewhere already?
            _taken_names(taken, path.rsplit(".", 1)[-1], node, path, problems)
    ambiguous = _fields({"countries": _list_of(_country, what="country codes"), "names": _NAMES},
                        required=("countries", "names"))
    return _fields({
        "home": _country,
        "transit": _list_of(_country, what="country codes"),
        "countries": _each(_country_problem, country),
        "ambiguous": _each(_name_key, ambiguous),
        "block": _NAMES,
        "terms": _fields({kind.value: _NAMES for kind in TERM_KINDS}),
    })


def _taken_names(taken: Mapping[str, tuple[str, str]], code: str, node: Any, path: str,
                 problems: list[tuple[int, int, str]]) -> None:
    """A name the packaged gazetteer gives another country (``Istanbul`` for the stem ``Istanbul*``) is refused:
    merged, the exact spelling would win, and "Kazakhs of Istanbul" would be tagged with the new country. Only
    the same spelling is: a longer name a packaged stem happens to cover (``Ammanford``, ``Amman*``) is the
    operator's correction, and is kept."""
    lists: list[tuple[str, Any]] = [(f"{path}.{key}", node.get(key)) for key in ("names", "demonyms")]
    for key in ("places", "communities"):
        group = node.get(key) or {}
        lists += [(f"{path}.{key}.{name}", group[name]) for name in group]
    for where, names in lists:
        for index, name in enumerate(names or ()):
            owner = taken.get(_spelling_key(name))
            if owner is None or owner[1] == code:
                continue
            try:
                line, col = names.lc.item(index)
            except (AttributeError, KeyError, TypeError):
                line, col = 0, 0
            problems.append((line + 1, col + 1, (
                f"{where}[{index}]: {name!r} is already a name of {owner[0]} ({owner[1]}) in the packaged "
                f"gazetteer; a name points to one country (list one that several share under ambiguous:)")))


def _spelling_key(name: str) -> str:
    from mediawatch.classify.gazetteer import fold

    return fold(name.strip().rstrip("*"))


def _spellings(data: Mapping[str, object]) -> dict[str, tuple[str, str]]:
    """Each country's, place's, community's and demonym's spellings in the packaged gazetteer ``data`` (folded,
    a stem's ``*`` dropped) with the name and the country they point to."""
    out: dict[str, tuple[str, str]] = {}
    countries = data.get("countries")
    for code, spec in (countries.items() if isinstance(countries, dict) else ()):
        if not isinstance(spec, dict):
            continue
        label = str(spec.get("name", code))
        entries: list[tuple[str, object]] = [(label, spec.get("names")), (label, spec.get("demonyms"))]
        for key in ("places", "communities"):
            group = spec.get(key)
            entries += list(group.items()) if isinstance(group, dict) else []
        for name, spellings in entries:
            for spelling in spellings if isinstance(spellings, list) else ():
                if isinstance(spelling, str) and spelling.strip():
                    out.setdefault(_spelling_key(spelling), (str(name), str(code)))
    return out


def _taxonomy(packaged: Mapping[str, object]) -> Check:
    known = packaged.get("topics")
    known_ids = set(known) if isinstance(known, Mapping) else set()
    example = _fields({"lang": _language, "text": _text}, required=("text",))
    fields: dict[str, Check] = {
        "label": _text, "description": _text, "cues": _list_of(_text, what="cue words"),
        "examples": _list_of(example, what="examples ({lang: .., text: ..})"),
    }
    packaged_topic = _fields(fields)
    new_topic = _fields(fields, required=("description",))

    def topic(node: Any, path: str, pos: Position, problems: list[tuple[int, int, str]]) -> None:
        topic_id = path.rsplit(".", 1)[-1]
        (packaged_topic if topic_id in known_ids else new_topic)(node, path, pos, problems)

    return _fields({"relevance": _text, "topics": _each(_topic_key, topic)})


def _topic_key(key: object) -> str | None:
    if isinstance(key, str) and TOPIC_ID.match(key):
        return None
    return (f"{_shown(key)} is not a topic id: 1-32 of a-z 0-9 _ -, starting with a letter (it names the "
            f"topic's feed files)")


def _name_key(key: object) -> str | None:
    return None if isinstance(key, str) and key.strip() else f"{_shown(key)} is not a name"
