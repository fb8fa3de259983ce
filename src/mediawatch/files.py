"""Writing output files so that readers never see half a file."""

from __future__ import annotations

import errno
import io
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO


@contextmanager
def replacing(path: Path, *, keep_mode: bool = False) -> Iterator[BinaryIO]:
    """A file to write into; it replaces ``path`` (temporary file beside it, fsync, rename) only once the block
    ends without an error. A full disk, a kill or an error on the way leaves ``path`` as it was, and the partial
    copy is removed. Any ``OSError`` names ``path``, not the temporary file (a failed write names no file at
    all). The new file is mode 0644, or keeps the old file's permission bits with ``keep_mode``.

    A symbolic link is followed: the file it points to is replaced and the link stays. A device, pipe or socket
    (``/dev/null``, ``/dev/stdout``, a shell's ``>(gzip > out.gz)``) is written in place, since there is no file
    to replace: renaming over it would put a regular file where the device was."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    inherited = _inherited_fd(path)
    if inherited is not None or _is_stream(path):
        try:
            # /dev/stdout and /dev/fd/N: the open file the shell gave us (``>> log`` appends), not a reopening
            with (os.fdopen(os.dup(inherited), "wb") if inherited is not None else open(path, "wb")) as stream:
                yield stream
                stream.flush()
        except OSError as exc:
            if exc.strerror and exc.filename != str(path):
                raise OSError(exc.errno, exc.strerror, str(path)) from exc
            raise
        return
    target = replaced_file(path)
    mode = target.stat().st_mode & 0o7777 if keep_mode and target.exists() else 0o644
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.strerror and exc.filename != str(path):
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise


_INHERITED = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")
_STANDARD = {"/dev/stdout": 1, "/dev/stderr": 2}


def _inherited_fd(path: Path) -> int | None:
    """The descriptor ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N`` or ``/proc/self/fd/N`` names, if open."""
    text = str(path)
    fd = _STANDARD.get(text)
    if fd is None and (match := _INHERITED.match(text)):
        fd = int(match.group(1))
    if fd is None:
        return None
    try:
        os.fstat(fd)
    except OSError:
        return None
    return fd


def writes_in_place(path: Path) -> bool:
    """Whether output to ``path`` is written as it goes rather than replacing a file: a descriptor this process
    inherited (``/dev/stdout``, a shell's ``>(gzip)``), a device, pipe or socket."""
    return _inherited_fd(path) is not None or _is_stream(path)


def _is_stream(path: Path) -> bool:
    try:
        return path.exists() and not path.is_file() and not path.is_dir()
    except OSError:
        return False


def replaced_file(path: Path) -> Path:
    """The file that output to ``path`` replaces: a symbolic link's target (the link stays), else ``path``. A
    loop of links is an OSError naming ``path``."""
    if not path.is_symlink():
        return path
    try:
        return path.resolve(strict=False)
    except (RuntimeError, OSError) as exc:  # Python 3.11 raises RuntimeError for a loop
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path)) from exc


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` in one step (see :func:`replacing`), creating its folder if need be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as fh:
        fh.write(data)


@contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """:func:`replacing` for UTF-8 text streamed line by line (an export of any size)."""
    with replacing(path) as raw:
        fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        yield fh
        fh.flush()
        fh.detach()  # the binary file stays open for replacing() to fsync and rename


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder`` itself (``flock`` on the directory), held for the block: processes that
    read, change and rewrite files in the folder take turns. No lock file is left behind, and the kernel
    releases the lock when the process ends. Where the filesystem cannot lock a folder (NFS), a warning is
    logged and the block runs unlocked."""
    import fcntl
    import logging

    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:  # NFS and SMB lock only files opened for writing (EBADF), some mounts none at all
            logging.getLogger(__name__).warning(
                "cannot lock %s (%s): going on without the lock", folder, exc.strerror or exc)
        yield
    finally:
        os.close(fd)
