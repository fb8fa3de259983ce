"""ruamel.yaml trees as the validators of operators' files need them (the sources file, the taxonomy and
gazetteer override files): the file's text (UTF-8, bounded), its round-trip tree (YAML errors as
``FILE:LINE:COL`` problems), plain data (with a bound on alias expansion), and the line and column of a key, a
value or a pydantic error location."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from mediawatch.errors import ConfigError

MAX_NESTING = 64  # flow collections ([ {) inside each other; an operator's file needs a few


def read_yaml_text(path: Path, *, max_bytes: int, what: str) -> str:
    """The file's text (UTF-8, a BOM allowed); ConfigError naming the file (and the line of a byte that is
    not UTF-8) when it is missing, unreadable, larger than ``max_bytes`` or not UTF-8. ``what`` names the
    file in the size message ("the sources file")."""
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        size = max_bytes // (1024 * 1024)
        message = f"{path}:1:1: the file is larger than {size} MB; is it {what}?"
        raise ConfigError(message, [message])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        message = f"{path}:1:1: the file is UTF-16; save it as UTF-8"
        raise ConfigError(message, [message])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = len(data[data.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8", "replace")) + 1
        byte = data[exc.start]
        message = f"{path}:{line}:{col}: not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
        raise ConfigError(message, [message]) from None


def _too_deep(text: str) -> tuple[int, int] | None:
    """LINE, COL where flow collections nest deeper than MAX_NESTING (brackets inside quotes are counted too,
    which can only make a pathological file fail sooner), or None. Cheap for ordinary files."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return None
    depth = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth = depth + 1 if match.group() in "[{" else max(0, depth - 1)
        if depth > MAX_NESTING:
            before = text[: match.start()]
            return before.count("\n") + 1, match.start() - (before.rfind("\n") + 1) + 1
    return None


def parse_yaml_tree(text: str, path: Path | str, *, what: str) -> Any:
    """``text`` as a ruamel round-trip tree (which knows the line and column of every node); ConfigError with
    one ``FILE:LINE:COL: YAML …`` problem when it is not YAML (``what``, "a sources file", is named when it
    nests too deeply)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    deep = _too_deep(text)
    if deep is not None:
        line, col = deep
        raise _yaml_error(
            f"{path}:{line}:{col}: YAML error: nested more than {MAX_NESTING} levels deep; {what} needs a few"
        )
    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except RecursionError:  # block (indentation) nesting the bracket count above does not see
        raise _yaml_error(f"{path}:1:1: YAML error: nested too deeply to read; {what} needs a few levels") from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(filter(None, [exc.context, exc.problem]))
        raise _yaml_error(f"{path}:{line}:{col}: YAML syntax error: {problem}") from None
    except ReaderError as exc:  # a character YAML does not allow (NUL, other controls)
        before = text[: exc.position]
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        problem = f"{path}:{line}:{col}: YAML error: character U+{code:04X} is not allowed in YAML"
        raise _yaml_error(problem) from None
    except YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise _yaml_error(f"{path}:1:1: YAML error: {problem}") from None


def plain_data(node: Any, max_values: int) -> Any:
    """ruamel's commented containers -> plain dicts and lists (pydantic wants plain data). Raises
    :class:`TooManyValues` past ``max_values`` values: aliases share nodes, and expanding them can be exponential."""
    return _plain(node, [max_values])


class TooManyValues(Exception):
    """The tree holds more values than the budget allows once aliases are expanded."""


def _plain(node: Any, budget: list[int]) -> Any:
    """``budget``: [values left], shared by the whole walk."""
    budget[0] -= 1
    if budget[0] < 0:
        raise TooManyValues
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, str) else k: _plain(v, budget) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, budget) for v in node]
    return node


def value_position(node: Any, key: Any, *, of_key: bool = False) -> tuple[int, int]:
    """1-based (line, column) of ``node[key]``'s value (of the key itself with ``of_key``), else of ``node``."""
    try:
        line, col = node.lc.key(key) if of_key else node.lc.value(key)
        return line + 1, col + 1
    except (AttributeError, KeyError, TypeError):
        return node_position(node)


def node_position(node: Any) -> tuple[int, int]:
    """1-based (line, column) where ``node`` starts; (1, 1) for plain data."""
    lc = getattr(node, "lc", None)
    if lc is not None and lc.line is not None:
        return lc.line + 1, lc.col + 1
    return 1, 1


def locate(data: Any, loc: tuple[Any, ...], err_type: str, *, kinds: Collection[str] = ()) -> tuple[int, int, str]:
    """Follow a pydantic error location through the YAML tree to (line, column, dotted path). ``kinds``: the tags
    of a union discriminated by a ``kind`` key, which pydantic inserts into the location."""
    node = data
    pos = node_position(data)
    dotted = ""
    for part in loc:
        if isinstance(part, str) and part in kinds and isinstance(node, dict) and node.get("kind") == part:
            continue  # the discriminator tag pydantic inserts into the path
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            dotted += f"[{part}]"
            try:
                line, col = node.lc.item(part)
                pos = (line + 1, col + 1)
            except (AttributeError, KeyError, TypeError):
                pass
            node = node[part]
        elif isinstance(node, dict) and part in node:
            dotted += f".{part}" if dotted else str(part)
            pos = value_position(node, part, of_key=err_type == "extra_forbidden")
            node = node[part]
        else:
            dotted += f".{part}" if dotted else str(part)
            break
    if err_type.startswith("union_tag") and isinstance(node, dict) and "kind" in node:
        pos = value_position(node, "kind")
        dotted += ".kind"
    return pos[0], pos[1], dotted or "(file)"


def _yaml_error(problem: str) -> ConfigError:
    """The one problem of a file that is not YAML, as the error's message too (a log line shows it whole)."""
    return ConfigError(problem, [problem])
