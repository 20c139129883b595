"""The single write point for files dsenv generates: refuses to escape its folder,
refuses to overwrite unless told to, and honours dry-run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dsenv.errors import UsageError


@dataclass
class Writer:
    root: Path
    dry_run: bool = False
    force: bool = True
    written: list[Path] = field(default_factory=list)

    def write(self, relative: str | os.PathLike[str], content: str | bytes) -> Path:
        target = (self.root / relative).resolve()
        root = self.root.resolve()
        if target != root and root not in target.parents:
            raise UsageError(f"refusing to write {relative}: it is outside {self.root}")
        if target.exists() and not self.force:
            raise UsageError(f"{self.display(target)} exists; pass --force to overwrite it")
        self.written.append(target)
        if self.dry_run:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.dsenv-tmp")
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(content, encoding="utf-8")
        tmp.replace(target)  # atomic: a failed run never leaves a half-written file
        return target

    def display(self, path: Path) -> str:
        try:
            return os.path.relpath(path)
        except ValueError:
            return str(path)
