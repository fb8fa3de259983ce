"""ruamel.yaml trees as the validator needs them: plain data (with a bound on alias expansion), and the line and
column of a key, a value or a pydantic error location, for ``FILE:LINE:COL`` problems."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


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
