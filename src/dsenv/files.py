"""The single read point for files users hand to dsenv: profiles, plan JSON, price tables,
CRD and values schemas.

A path may name anything: a device that never ends (`/dev/zero`), a named pipe nobody
writes to, a socket, a folder. Each is refused before a byte is read: the file is opened
with O_NONBLOCK (opening a FIFO for reading then returns at once instead of waiting for a
writer) and the open descriptor is inspected, so what is checked is what is read. A regular
file is read up to its limit and no further: a file that grows while it is read cannot
make dsenv read more than the limit.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

#: What each kind of file is, for messages.
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


class RefusedError(Exception):
    """A path that cannot be read as an input file; the message says why, for a user."""


def describe(mode: int) -> str:
    for test, what in _KINDS:
        if test(mode):
            return what
    return "not a regular file"


def read_bounded(path: str | os.PathLike[str], limit: int, *, what: str = "input files") -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them, or `RefusedError`.

    `what` names the kind of input, in the plural, for the size message ("profiles").
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise RefusedError("no such file") from None
    except IsADirectoryError:
        raise RefusedError("is a directory, not a file") from None
    except PermissionError:
        raise RefusedError("permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a Unix socket cannot be opened as a file
            raise RefusedError("is a socket, not a file") from None
        raise RefusedError(f"cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RefusedError(f"is {describe(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise RefusedError(_too_big(info.st_size, limit, what))
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise RefusedError(_too_big(size, limit, what, grew=True))
        return b"".join(chunks)
    except OSError as exc:
        raise RefusedError(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike[str], limit: int, *, what: str = "input files") -> str:
    """`read_bounded`, decoded as UTF-8 (a BOM is dropped)."""
    data = read_bounded(path, limit, what=what)
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise RefusedError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def regular_file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as an input file, without opening it; None when it can."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if not stat.S_ISREG(info.st_mode):
        return f"is {describe(info.st_mode)}, not a regular file"
    return None


def _too_big(size: int, limit: int, what: str, *, grew: bool = False) -> str:
    mib = f" ({limit / 2**20:g} MiB)" if limit >= 2**20 else ""
    got = f"grew past {limit} bytes while it was read" if grew else f"is {size} bytes"
    return f"file {got}; {what} are limited to {limit} bytes{mib}"
