"""The demo's own folder: created and marked by the demo, emptied only when the mark says the demo made it.

``mediawatch demo --dir DIR`` starts from an empty folder each run. Emptying is only ever done to a folder
that carries :data:`MARKER` (written when the demo first took the folder); a folder that holds anything else
is refused, and so are the current folder, the home folder, a filesystem root and any folder that holds one
of them, whatever they contain. Symbolic links are resolved before any of this is decided.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mediawatch.errors import ConfigError

MARKER = ".mediawatch-demo"
MARKER_TEXT = (
    "This folder was created by `mediawatch demo`.\n"
    "The demo empties it at the start of each run; keep nothing of your own here.\n"
)
SUGGESTION = "give a new or empty folder with --dir (for example --dir mediawatch-demo)"


def prepare_folder(folder: Path) -> Path:
    """Make ``folder`` an empty demo folder that carries the marker; return its resolved path.

    * missing: created (with its parents);
    * existing and empty: used as it is;
    * existing with the marker: emptied (the folder itself stays);
    * anything else (a file, a folder with other contents, the current or home folder, a root, a folder
      holding one of those): ConfigError naming the folder, and nothing is touched.
    """
    target = folder.expanduser().resolve()
    shown = str(folder) if str(folder) == str(target) else f"{folder} ({target})"
    why = protected_reason(target)
    if why is not None:
        raise ConfigError(f"refusing to use {shown} as the demo folder: it is {why}; {SUGGESTION}")
    if target.exists():
        if not target.is_dir():
            raise ConfigError(f"refusing to use {shown} as the demo folder: it is not a folder; {SUGGESTION}")
        if is_demo_folder(target):
            _empty(target)
        elif any(target.iterdir()):
            raise ConfigError(
                f"refusing to use {shown} as the demo folder: it is not empty and was not created by the demo "
                f"(no {MARKER} file), and the demo empties its folder on every run; {SUGGESTION}"
            )
    else:
        try:
            target.mkdir(parents=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the demo folder {shown}: {exc.strerror or exc}") from None
    (target / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    return target


def is_demo_folder(path: Path) -> bool:
    """Whether ``path`` carries the demo's marker (a regular file, not a link to one)."""
    marker = path / MARKER
    return marker.is_file() and not marker.is_symlink()


def protected_reason(target: Path) -> str | None:
    """Why the resolved ``target`` may never be a demo folder, or None."""
    if target.parent == target:
        return "a filesystem root"
    places = [("the current folder", Path.cwd().resolve())]
    try:
        places.append(("your home folder", Path.home().resolve()))
    except RuntimeError:  # no home folder can be determined
        pass
    for name, place in places:
        if target == place:
            return name
    for name, place in places:
        if target in place.parents:
            return f"a folder that holds {name} ({place})"
    return None


def _empty(folder: Path) -> None:
    """Remove everything inside ``folder`` (links are removed, never followed)."""
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
