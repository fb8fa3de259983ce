"""`mediawatch demo --dir DIR` only ever empties a folder the demo created (README audit: `demo --dir .` deleted
the user's files). Refusals happen before anything is touched or served, and exit 2 like other usage errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediawatch.cli import main
from mediawatch.demo.folder import MARKER, prepare_folder
from mediawatch.errors import ConfigError


def user_files(folder: Path) -> dict[str, str]:
    """A few files of the user's own, returned as {relative path: text} to compare afterwards."""
    (folder / "notes").mkdir(parents=True, exist_ok=True)
    files = {"thesis.txt": "my only copy\n", "notes/todo.md": "- back up\n"}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return files


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_demo_cli(folder: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["demo", "--dir", folder])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stderr


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of our own (Path.home() reads HOME), and the working folder inside it."""
    folder = tmp_path / "home" / "aigerim"
    work = folder / "projects"
    work.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.chdir(work)
    return folder


def test_demo_dir_dot_keeps_the_users_files(home: Path) -> None:
    files = user_files(Path.cwd())
    code, err = run_demo_cli(".")
    assert code == 2, err
    assert snapshot(Path.cwd()) == files
    assert "refusing to use ." in err and "the current folder" in err and "--dir" in err


def test_demo_refuses_a_folder_with_other_contents(home: Path) -> None:
    folder = Path.cwd() / "photos"
    files = user_files(folder)
    code, err = run_demo_cli("photos")
    assert code == 2, err
    assert snapshot(folder) == files and not (folder / MARKER).exists()
    assert "photos" in err and "not empty" in err and MARKER in err


@pytest.mark.parametrize("given", ["home", "parent-of-cwd"])
def test_demo_refuses_home_and_folders_above_the_working_folder(home: Path, given: str) -> None:
    folder = {"home": home, "parent-of-cwd": Path.cwd().parent.parent}[given]
    before = sorted(p.name for p in folder.iterdir())
    code, err = run_demo_cli(str(folder))
    assert code == 2, err
    assert sorted(p.name for p in folder.iterdir()) == before
    assert f"refusing to use {folder}" in err


def test_a_filesystem_root_is_refused_whatever_it_holds(home: Path) -> None:
    # through prepare_folder only: never hand "/" to a demo command in a test
    root = Path(Path.cwd().anchor)
    with pytest.raises(ConfigError, match="a filesystem root"):
        prepare_folder(root)


def test_a_symlink_to_the_home_folder_is_refused(home: Path) -> None:
    files = user_files(home)
    link = Path.cwd() / "demo-link"
    link.symlink_to(home, target_is_directory=True)
    code, err = run_demo_cli("demo-link")
    assert code == 2, err
    assert "your home folder" in err and str(home) in err  # the resolved target is named
    assert {k: v for k, v in snapshot(home).items() if k in files} == files


def test_a_marker_reached_through_a_symlink_does_not_unlock_the_working_folder(home: Path) -> None:
    """Even with the marker (planted or left behind), the current folder is never emptied."""
    files = user_files(Path.cwd())
    (Path.cwd() / MARKER).write_text("x", encoding="utf-8")
    (home / "alias").symlink_to(Path.cwd(), target_is_directory=True)
    with pytest.raises(ConfigError, match="the current folder"):
        prepare_folder(home / "alias")
    assert {k: v for k, v in snapshot(Path.cwd()).items() if k in files} == files


def test_a_marker_that_is_a_symlink_does_not_count(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    files = user_files(folder)
    real_marker = tmp_path / "real-marker"
    real_marker.write_text("x", encoding="utf-8")
    (folder / MARKER).symlink_to(real_marker)
    with pytest.raises(ConfigError, match="not empty"):
        prepare_folder(folder)
    assert {k: v for k, v in snapshot(folder).items() if k in files} == files


def test_missing_folder_is_created_with_the_marker(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b" / "demo"
    assert prepare_folder(folder) == folder.resolve()
    assert [p.name for p in folder.iterdir()] == [MARKER]
    assert "mediawatch demo" in (folder / MARKER).read_text(encoding="utf-8")


def test_empty_existing_folder_is_used_and_marked(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    os.chmod(folder, 0o750)
    prepare_folder(folder)
    assert [p.name for p in folder.iterdir()] == [MARKER]
    assert folder.stat().st_mode & 0o777 == 0o750  # the folder itself is kept


def test_a_folder_the_demo_created_is_emptied_on_the_next_run(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    prepare_folder(folder)
    (folder / "digests" / "feeds").mkdir(parents=True)
    (folder / "digests" / "feeds" / "all.atom").write_text("<feed/>", encoding="utf-8")
    (folder / "mediawatch.db").write_bytes(b"SQLite format 3\x00")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep", encoding="utf-8")
    (folder / "link-out").symlink_to(outside, target_is_directory=True)  # removed, never followed
    prepare_folder(folder)
    assert [p.name for p in folder.iterdir()] == [MARKER]
    assert (outside / "keep.txt").read_text(encoding="utf-8") == "keep"


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(ConfigError, match="not a folder"):
        prepare_folder(path)
    assert path.read_bytes() == b"%PDF"
