"""Writing output files so that readers never see half a file."""

from __future__ import annotations

import errno
import io
import os
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
    if path.exists() and not path.is_file():  # stat follows links: /dev/stdout -> /proc/self/fd/1 -> pipe
        try:
            with open(path, "wb") as stream:
                yield stream
                stream.flush()
        except OSError as exc:
            if exc.strerror and exc.filename != str(path):
                raise OSError(exc.errno, exc.strerror, str(path)) from exc
            raise
        return
    target = path.resolve() if path.is_symlink() else path
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
