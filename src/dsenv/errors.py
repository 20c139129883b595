"""One error hierarchy: every user-facing failure is a DsenvError with an exit code.

The CLI catches DsenvError in one place and prints its message; anything else is a bug
and is still reported without a traceback unless DSENV_DEBUG is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2
    OPERATIONAL = 3
    INTERRUPTED = 130  # Ctrl-C: the shell's 128 + SIGINT


class DsenvError(Exception):
    exit_code: ExitCode = ExitCode.OPERATIONAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return self.message if not self.hint else f"{self.message}\nhint: {self.hint}"


class UsageError(DsenvError):
    """Bad arguments or options."""

    exit_code = ExitCode.BAD_INPUT


class OperationalError(DsenvError):
    """The engine, a tool, the state backend or a cloud API failed."""

    exit_code = ExitCode.OPERATIONAL


class UserInterruptError(DsenvError):
    """The user pressed Ctrl-C and the engine stopped; never retried."""

    exit_code = ExitCode.INTERRUPTED


@dataclass(frozen=True, order=True)
class Position:
    file: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One error in a profile: where, which key, what is wrong."""

    position: Position
    message: str
    path: str = ""

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.position}: {where}{_shorten_quotes(self.message)}"


#: A quoted value longer than this in a message is cut: a 900 KB tag value is not echoed.
_QUOTED_MAX = 80
_QUOTED = re.compile(rf"'([^'\n]{{{_QUOTED_MAX},}})'|\"([^\"\n]{{{_QUOTED_MAX},}})\"")


def _shorten_quotes(message: str) -> str:
    def cut(m: re.Match[str]) -> str:
        text = m.group(1) if m.group(1) is not None else m.group(2)
        return f"'{text[:60]}...' ({len(text)} characters)"

    return _QUOTED.sub(cut, message) if len(message) > _QUOTED_MAX else message


@dataclass
class ProfileError(DsenvError):
    """One or more problems in profile files; always exit code 2."""

    problems: list[Problem] = field(default_factory=list)
    exit_code = ExitCode.BAD_INPUT

    def __post_init__(self) -> None:
        self.problems.sort(key=lambda p: p.position)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return self.message
