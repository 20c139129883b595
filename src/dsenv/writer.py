"""The single write point for files dsenv generates: refuses to escape its folder, to write
over an input of the command, to overwrite unless told to, and honours dry-run.

Every write is atomic: the content goes to a temporary file in the target's own folder
(so the final rename never crosses a file system), which is renamed over the target only
once it is complete, and removed whatever happens otherwise. A failed or interrupted run
leaves the old file as it was and no stray temporary file. A path that cannot be written
is a `UsageError` naming it and why (exit 2); a disk that fails is an `OperationalError`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dsenv.errors import DsenvError, OperationalError, UsageError
from dsenv.files import describe

#: Suffix of the temporary file a write goes through (`.<name>.<random>.dsenv-tmp`).
TMP_SUFFIX = ".dsenv-tmp"

#: errno values that mean "this path cannot be written", as opposed to a failing disk.
_BAD_PATH = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a directory",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ELOOP: "too many symbolic links",
    errno.ENOENT: "a folder on the way does not exist",
}


@dataclass
class Writer:
    root: Path
    dry_run: bool = False
    force: bool = True
    #: the files this command read (a profile and everything it extends, a price table ...):
    #: never written over, whatever path leads to them
    protected: Iterable[str | os.PathLike[str]] = ()
    written: list[Path] = field(default_factory=list)

    def write(self, relative: str | os.PathLike[str], content: str | bytes) -> Path:
        target = (self.root / relative).resolve()
        root = self.root.resolve()
        if target != root and root not in target.parents:
            raise UsageError(f"refusing to write {relative}: it is outside {self.root}")
        shown = self.display(target)
        self._check_target(target, shown)
        self.written.append(target)
        if self.dry_run:
            return target
        data = content.encode("utf-8") if isinstance(content, str) else content
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _path_error(
                f"cannot create the folder {self.display(target.parent)}", exc
            ) from None
        _atomic_write(target, data, shown)
        return target

    def _check_target(self, target: Path, shown: str) -> None:
        try:
            info = target.stat()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _path_error(f"cannot write {shown}", exc) from None
        for path in self.protected:
            with contextlib.suppress(OSError):
                if target.samefile(path):
                    raise UsageError(
                        f"refusing to write {shown}: it is an input of this command "
                        f"({os.fspath(path)}); choose another output path"
                    )
        if stat.S_ISDIR(info.st_mode):
            raise UsageError(f"cannot write {shown}: it is a directory; give a file path")
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(
                f"cannot write {shown}: it is {describe(info.st_mode)}; give a regular file "
                "path (or leave out --output to print)"
            )
        if not self.force:
            raise UsageError(f"{shown} exists; pass --force to overwrite it")

    def display(self, path: Path) -> str:
        """`path` relative to the current folder when it is below it, else absolute."""
        try:
            relative = os.path.relpath(path)
        except ValueError:
            return str(path)
        return str(path) if relative.startswith("..") else relative


def _atomic_write(target: Path, data: bytes, shown: str) -> None:
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=target.parent
        )
    except OSError as exc:
        raise _path_error(f"cannot write {shown}", exc) from None
    tmp = Path(tmp_name)
    done = False
    try:
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            tmp.chmod(_mode_for(target))
            tmp.replace(target)  # atomic: readers see the old file or the new one
            done = True
        except OSError as exc:
            raise _path_error(f"cannot write {shown}", exc) from None
    finally:
        if not done:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _mode_for(target: Path) -> int:
    """A replaced file keeps its permissions; a new one gets the usual 0666 less the umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _path_error(what: str, exc: OSError) -> DsenvError:
    reason = _BAD_PATH.get(exc.errno or 0)
    if reason is not None:
        return UsageError(f"{what}: {reason}")
    return OperationalError(f"{what}: {exc.strerror or exc}")
