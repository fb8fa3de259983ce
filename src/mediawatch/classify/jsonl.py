"""Reading JSON Lines files given to ``classify --input`` and ``evaluate``: every problem named by its line.

UTF-8, with or without a byte order mark; lines end with LF or CRLF; blank lines are skipped. Only LF ends a
line: U+2028, U+2029 and NEL are ordinary characters inside JSON strings (``str.splitlines`` would cut there).
A ``\ud800`` escape without its pair (text cut from a web page mid-emoji) is removed from every string, as
collection removes it: such a string could be neither embedded nor written back as UTF-8.
"""

from __future__ import annotations

import json
import re

_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")

from mediawatch.errors import ConfigError

MAX_PROBLEMS = 20  # problems listed one by one; the rest are counted


Problem = tuple[int, str]  # (line number, what is wrong with it)


def read_json_lines(data: bytes) -> tuple[list[tuple[int, object]], list[Problem]]:
    """(line number, parsed value) for each good non-blank line of ``data``, and the problems of the others,
    so that a caller can report them together with its own checks (:func:`raise_problems`)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    out: list[tuple[int, object]] = []
    problems: list[Problem] = []
    for line_no, raw in enumerate(data.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append((line_no, f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"))
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append((line_no, f"not JSON ({exc.msg} at column {exc.colno})"))
            continue
        out.append((line_no, _without_lone_surrogates(value) if _ESCAPED_SURROGATE.search(line) else value))
    return out, problems


def _without_lone_surrogates(value: object) -> object:
    """After json.loads a surrogate pair is one character: a surrogate left in a string is a lone one."""
    from mediawatch.normalize import without_surrogates

    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {without_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def raise_problems(problems: list[Problem], where: str) -> None:
    """Raise one ConfigError listing ``problems`` as ``WHERE:LINE: ...`` in line order, the first
    MAX_PROBLEMS of them, if there are any."""
    if not problems:
        return
    shown = [f"{where}:{line}: {what}" for line, what in sorted(problems, key=lambda p: p[0])[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"{where}: ... and {len(problems) - MAX_PROBLEMS} more bad line(s)")
    raise ConfigError("\n".join(shown), shown)


def line_id(value: object) -> str | None:
    """An item id as given on a line: a non-blank string or an integer (not a boolean), else ``None``."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def optional_str(rec: dict[str, object], key: str) -> str | None:
    """``rec[key]`` when it is a string; ``None`` when missing or null; TypeError for anything else."""
    value = rec.get(key)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"'{key}' must be a string, not {type(value).__name__}")
