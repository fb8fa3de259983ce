"""Terminal reports: tables on a terminal (rich), plain JSON Lines for scripts."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mediawatch.models import SourceHealth
from mediawatch.wording import count

if TYPE_CHECKING:
    from rich.text import Text

# C0 and C1 controls (ESC starts terminal escape sequences), DEL; tab and newline become spaces too
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _terminal(text: object) -> str:
    """Text from outside (error messages, names, notes) made safe to print: no control characters."""
    return _CONTROL.sub(" ", str(text))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def health_record(h: SourceHealth) -> dict[str, object]:
    return {
        "id": h.source_id,
        "kind": h.kind.value,
        "name": h.name,
        "locator": h.url,
        "enabled": h.enabled,
        "last_attempt": _iso(h.last_attempt),
        "last_success": _iso(h.last_success),
        "consecutive_failures": h.consecutive_failures,
        "last_error": h.last_error,
        "items_7d": h.items_7d,
        "next_check": _iso(h.next_check) if h.enabled else None,  # a disabled source is never checked
        "notes": dict(h.notes),
    }


def print_health(rows: Sequence[SourceHealth], *, as_json: bool) -> None:
    if as_json:
        for h in rows:
            sys.stdout.write(json.dumps(health_record(h), ensure_ascii=False) + "\n")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=count(len(rows), "source"), title_justify="left")
    for col in ("id", "kind", "on", "last attempt UTC", "last success UTC", "fails", "last error / notes", "7d",
                "next check UTC"):
        table.add_column(col, overflow="fold")
    for h in rows:
        # Text, not str: rich reads "[...]" in a str as console markup (an error text like "[/channel]" raised
        # MarkupError, "[blocked]" vanished)
        before = (h.source_id, h.kind.value, "yes" if h.enabled else "no", _short(h.last_attempt),
                  _short(h.last_success), str(h.consecutive_failures))
        after = (str(h.items_7d), _short(h.next_check) if h.enabled else "-")
        table.add_row(*(Text(_terminal(c)) for c in before), _problem_cell(h), *(Text(_terminal(c)) for c in after))
    console = Console(soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # piped or captured: rich assumes 80 columns and folds ids and times ("2026-11/-28"); a file has room
        console = Console(soft_wrap=False, width=200)
    console.print(table)


def _problem_cell(h: SourceHealth) -> Text:
    """The last error, then each note on a line of its own (dimmed): a note never hides behind an error."""
    from rich.text import Text

    lines: list[tuple[str, str]] = []
    if h.last_error:
        lines.append((_terminal(h.last_error), ""))
    lines.extend((_terminal(f"{key}: {value}"), "dim") for key, value in h.notes.items())
    cell = Text()
    for n, (line, style) in enumerate(lines):
        if n:
            cell.append("\n")
        cell.append(line, style=style)
    return cell


def _short(value: datetime | None) -> str:
    """A time for the table, in UTC (the columns say so)."""
    if value is None:
        return "never"
    return (value.astimezone(UTC) if value.tzinfo else value).strftime("%Y-%m-%d %H:%M")


def print_collect_report(report) -> None:  # type: ignore[no-untyped-def]
    """One summary line, then one line per failed source with its reason."""
    print(report.summary())
    for source_id, reason in sorted(report.failures.items()):
        print(f"  failed  {source_id}: {_terminal(reason)}")
    for source_id, warning in sorted(report.warnings.items()):
        print(f"  warning {source_id}: {_terminal(warning)}")


@contextmanager
def progress_bar(what: str, total: int | None = None) -> Iterator[Callable[[int, int | None, str], None] | None]:
    """A rich progress bar on a terminal (stderr), nothing otherwise (then it yields None).

    The callback takes (done, total, note): ``total`` may change as work is discovered, ``note`` is shown at
    the end of the line (e.g. the source just collected)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[note]}"), console=Console(stderr=True), transient=True) as prog:
        task = prog.add_task(what, total=total, note="")

        def update(done: int, new_total: int | None = None, note: str = "") -> None:
            prog.update(task, completed=done, total=new_total if new_total is not None else total, note=note)

        yield update
