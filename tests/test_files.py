"""Output files: replaced whole, links kept, devices and pipes written in place (never replaced by a file)."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediawatch.cli import main
from mediawatch.files import atomic_text, write_atomic
from mediawatch.models import Item, ItemId, ItemKind, SourceId
from mediawatch.sourcefile import load_sourcefile
from mediawatch.store import SourceState, open_store


def _read_fifo(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_regular_file_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b"old\n")
    write_atomic(path, b"new\n")
    assert path.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]  # no temporary file left


def test_a_symbolic_link_stays_and_its_target_gets_the_new_content(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "export.jsonl"
    target.write_bytes(b"old\n")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(target)
    with atomic_text(link) as out:
        out.write("new ✓\n")
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text(encoding="utf-8") == "new ✓\n"
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["export.jsonl"]


def test_a_pipe_is_written_in_place_not_replaced_by_a_file(tmp_path: Path) -> None:
    """As /dev/null, /dev/stdout or a shell's >(gzip) would be: renaming over one destroys the device."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so that opening for writing does not block
    try:
        write_atomic(fifo, b"line 1\nline 2\n")
        assert stat.S_ISFIFO(fifo.lstat().st_mode)
        assert _read_fifo(reader) == b"line 1\nline 2\n"
    finally:
        os.close(reader)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc/self/fd")
def test_a_link_to_an_anonymous_pipe_is_written_in_place() -> None:
    """/dev/stdout in `export -o /dev/stdout | wc -l`, or the /dev/fd/63 of `-o >(gzip > items.gz)`: a link
    to a pipe that has no path of its own (resolving it gives "pipe:[N]", which does not exist)."""
    read_end, write_end = os.pipe()
    try:
        write_atomic(Path(f"/proc/self/fd/{write_end}"), b"one\ntwo\n")
        os.close(write_end)
        write_end = -1
        assert os.read(read_end, 100) == b"one\ntwo\n"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def test_dev_stdout_redirected_to_a_file_in_append_mode_appends(tmp_path: Path) -> None:
    """`mediawatch export -o /dev/stdout >> log.jsonl`: the shell's open file is written through (appending);
    reopening /dev/stdout would have replaced or truncated log.jsonl."""
    import subprocess
    import sys

    log = tmp_path / "log.jsonl"
    log.write_text("earlier line\n", encoding="utf-8")
    code = "from pathlib import Path; from mediawatch.files import write_atomic; " \
           "write_atomic(Path('/dev/stdout'), b'new line\\n')"
    with log.open("ab") as out:
        subprocess.run([sys.executable, "-c", code], stdout=out, check=True, timeout=60)
    assert log.read_text(encoding="utf-8") == "earlier line\nnew line\n"


def test_a_loop_of_links_is_an_error_naming_the_path(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(OSError, match="Too many levels of symbolic links") as info:
        write_atomic(a, b"x")
    assert info.value.filename == str(a)


def test_export_and_classify_output_to_a_pipe(tmp_path: Path) -> None:
    """`export -o` and `classify --output` with a pipe or device (here a FIFO in a folder nobody may write):
    the data arrives and the pipe is still a pipe."""
    folder = tmp_path / "ro"
    folder.mkdir()
    fifo = folder / "pipe"
    os.mkfifo(fifo)
    folder.chmod(0o555)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        db = f"sqlite:///{tmp_path / 'mw.db'}"
        now = datetime(2025, 3, 20, 8, tzinfo=UTC)
        store = open_store(db)
        sources = tmp_path / "sources.yaml"
        sources.write_text("version: 1\nsources:\n  - {id: feed-a, kind: rss, url: 'https://a.example/feed'}\n",
                           encoding="utf-8")
        store.sync_sources(load_sourcefile(sources).sources, now)
        store.commit_source(SourceId("feed-a"), [Item(
            id=ItemId("i1"), source_id=SourceId("feed-a"), kind=ItemKind.ARTICLE, url="https://a.example/1",
            title="Title 1", summary="s", text="t", published=now, fetched=now, language="en")],
            SourceState(SourceId("feed-a")), now)
        store.close()
        runner = CliRunner()
        result = runner.invoke(main, ["export", "--db", db, "-o", str(fifo)])
        assert result.exit_code == 0, result.output
        assert stat.S_ISFIFO(fifo.lstat().st_mode)
        assert [json.loads(line)["id"] for line in _read_fifo(reader).splitlines()] == ["i1"]
        empty = tmp_path / "empty.jsonl"
        empty.write_text("\n", encoding="utf-8")  # no items: nothing to tag, so no model is loaded
        result = runner.invoke(main, ["classify", "--input", str(empty), "--output", str(fifo)])
        assert result.exit_code == 0, result.output
        assert stat.S_ISFIFO(fifo.lstat().st_mode)
    finally:
        os.close(reader)
        folder.chmod(0o755)
