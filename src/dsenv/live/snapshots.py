"""State snapshots: the stack's state as `pulumi stack export` writes it, kept before every
`up` and `destroy`, a bounded number per stack, oldest dropped first.

A snapshot holds what the state holds: resource outputs, with secrets still encrypted by the
stack's secrets provider (the export runs without `--show-secrets`). The files are the
user's alone all the same (mode 0600 in a 0700 folder): outputs name every resource."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dsenv.errors import OperationalError, UsageError

DEFAULT_KEEP = 10
_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{6}\d{6}Z)-(?P<op>[a-z]+)\.json$")


@dataclass(frozen=True)
class Snapshot:
    stack: str
    id: str  # file stem, e.g. "20250101T120000000000Z-up"
    op: str
    taken: datetime
    path: Path
    resources: int

    def load(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return data


@dataclass
class SnapshotStore:
    root: Path
    keep: int = DEFAULT_KEEP

    def save(
        self, stack: str, op: str, state: dict[str, Any], *, now: datetime | None = None
    ) -> Snapshot:
        taken = now or datetime.now(UTC)
        name = f"{taken.strftime('%Y%m%dT%H%M%S%fZ')}-{op}.json"
        folder = self.root / stack
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            for made in (self.root, folder):
                made.chmod(0o700)
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(json.dumps(state, indent=2, sort_keys=True))
        except OSError as exc:
            raise OperationalError(f"cannot keep a state snapshot in {folder}: {exc}") from None
        for old in self.list(stack)[self.keep :]:
            old.path.unlink(missing_ok=True)
        return self.get(stack, name.removesuffix(".json"))

    def list(self, stack: str) -> list[Snapshot]:
        """Newest first."""
        folder = self.root / stack
        if not folder.is_dir():
            return []
        found = []
        for path in folder.iterdir():
            match = _NAME.match(path.name)
            if not match:
                continue
            taken = datetime.strptime(match["stamp"], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
            try:
                resources = len(
                    json.loads(path.read_text(encoding="utf-8"))
                    .get("deployment", {})
                    .get("resources")
                    or []
                )
            except (OSError, ValueError):
                continue
            found.append(Snapshot(stack, path.stem, match["op"], taken, path, resources))
        return sorted(found, key=lambda s: s.id, reverse=True)

    def get(self, stack: str, snapshot_id: str | None = None) -> Snapshot:
        """One snapshot by id (or a unique prefix of it); the newest when id is None."""
        snapshots = self.list(stack)
        if not snapshots:
            raise UsageError(f"no snapshots of stack {stack} under {self.root}")
        if snapshot_id is None:
            return snapshots[0]
        matches = [s for s in snapshots if s.id.startswith(snapshot_id)]
        if len(matches) != 1:
            known = ", ".join(s.id for s in snapshots[:5])
            raise UsageError(
                f"{len(matches)} snapshots of {stack} match {snapshot_id!r}; newest: {known}"
            )
        return matches[0]
