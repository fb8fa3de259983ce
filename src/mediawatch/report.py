"""Terminal reports: tables on a terminal (rich), plain JSON Lines for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime

from mediawatch.models import SourceHealth


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
        "next_check": _iso(h.next_check),
        "notes": dict(h.notes),
    }


def print_health(rows: Sequence[SourceHealth], *, as_json: bool) -> None:
    if as_json:
        for h in rows:
            sys.stdout.write(json.dumps(health_record(h), ensure_ascii=False) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} sources", title_justify="left")
    for col in ("id", "kind", "on", "last attempt", "last success", "fails", "last error / notes", "7d", "next check"):
        table.add_column(col, overflow="fold")
    for h in rows:
        problem = h.last_error or "; ".join(f"{k}: {v}" for k, v in h.notes.items())
        table.add_row(
            h.source_id,
            h.kind.value,
            "yes" if h.enabled else "no",
            _short(h.last_attempt),
            _short(h.last_success),
            str(h.consecutive_failures),
            problem or "",
            str(h.items_7d),
            _short(h.next_check) if h.enabled else "-",
        )
    Console(soft_wrap=False).print(table)


def _short(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


def collect_progress(total: int):  # type: ignore[no-untyped-def]
    """A rich progress bar on a terminal (stderr), nothing otherwise; yields a (source_id, ok) callback."""
    from contextlib import contextmanager

    @contextmanager
    def bar():  # type: ignore[no-untyped-def]
        if not sys.stderr.isatty() or total == 0:
            yield None
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("collecting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[last]}"), console=Console(stderr=True), transient=True,
        ) as prog:
            task = prog.add_task("collect", total=total, last="")

            def advance(source_id: str, ok: bool) -> None:
                prog.update(task, advance=1, last=source_id if ok else f"{source_id} (failed)")

            yield advance

    return bar()


def print_collect_report(report) -> None:  # type: ignore[no-untyped-def]
    """One summary line, then one line per failed source with its reason."""
    print(report.summary())
    for source_id, reason in sorted(report.failures.items()):
        print(f"  failed  {source_id}: {reason}")
    for source_id, warning in sorted(report.warnings.items()):
        print(f"  warning {source_id}: {warning}")


def count_progress(what: str):  # type: ignore[no-untyped-def]
    """A rich progress bar on a terminal for work counted as (done, total); yields the callback or None."""
    from contextlib import contextmanager

    @contextmanager
    def bar():  # type: ignore[no-untyped-def]
        if not sys.stderr.isatty():
            yield None
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=True) as prog:
            task = prog.add_task(what, total=None)

            def advance(done: int, total: int) -> None:
                prog.update(task, completed=done, total=total)

            yield advance

    return bar()
