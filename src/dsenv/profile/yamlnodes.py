"""Strict YAML 1.2 reading that keeps the source position of every key and value.

libyaml (through PyYAML's C parser, or its pure-Python twin where PyYAML was built without
it) turns the text into events; dsenv builds its own tree of `Node`s from them, resolving
plain scalars by the YAML 1.2 core schema (`NO` stays a string, `1.30` is a number), so that
every value knows its file, line and column, and so that anchors, aliases, merge keys, custom
tags and duplicate keys are refused with a position rather than silently resolved.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml
from yaml import events as ev
from yaml.error import MarkedYAMLError, YAMLError

from dsenv.errors import Position, Problem, ProfileError
from dsenv.files import RefusedError, read_bounded

#: libyaml's parser when PyYAML has it; the events and marks are the same either way.
_Parser: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

MAX_BYTES = 1024 * 1024
_YAML_DIRECTIVE = re.compile(r"^%YAML[ \t]+(\S*)", re.MULTILINE)
MAX_DEPTH = 32
#: Characters no profile contains (NUL, C0 controls other than tab and line breaks, non-characters).
_CONTROL = re.compile("[\x00-\x08\ufffe\uffff]")
#: The pure-Python parser's messages are better than libyaml's, but it is about 15 times
#: slower (about 0.2 s for 16 KiB here): it re-reads a file that failed only when the file
#: is this small (every real profile is), so a pathological megabyte never takes seconds.
_PRECISE_REPARSE_MAX = 16 * 1024

KeyPath = tuple[str | int, ...]

_CORE = "tag:yaml.org,2002:"


@dataclass
class Node:
    """A value from a profile, with where it was written."""

    value: Any  # dict[str, Node] | list[Node] | str | int | float | bool | None
    pos: Position
    key_pos: Position | None = None  # where its key was written, for mapping entries
    raw: str | None = None  # scalar source text, for messages
    children_removed: list[str] = field(default_factory=list)

    def plain(self) -> Any:
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value

    def walk(self, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Node]]:
        yield path, self
        if isinstance(self.value, dict):
            for k, v in self.value.items():
                yield from v.walk((*path, k))
        elif isinstance(self.value, list):
            for i, v in enumerate(self.value):
                yield from v.walk((*path, i))

    def get(self, key: str) -> Node | None:
        if isinstance(self.value, dict):
            found: Node | None = self.value.get(key)
            return found
        return None


def read_file(path: Path, display: str) -> Node:
    """Read one profile file into a Node tree or raise ProfileError. Devices, pipes, sockets
    and folders are refused without reading them, and at most MAX_BYTES are read."""
    try:
        data = read_bounded(path, MAX_BYTES, what="profiles")
    except RefusedError as exc:
        _fail(display, 1, 1, str(exc))
    return parse_bytes(data, display)


def parse_bytes(data: bytes, display: str) -> Node:
    if len(data) > MAX_BYTES:
        _fail(display, 1, 1, f"document is {len(data)} bytes; profiles are limited to 1 MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        _fail(
            display,
            line,
            col,
            f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded; save the file as UTF-8",
        )
    return parse_text(text.removeprefix("\ufeff"), display)


def parse_text(text: str, display: str) -> Node:
    control = _CONTROL.search(text)
    if control:
        i, ch = control.start(), control.group()
        line = text.count("\n", 0, i) + 1
        col = i - (text.rfind("\n", 0, i) + 1) + 1
        _fail(display, line, col, f"control character U+{ord(ch):04X} is not allowed in a profile")
    directive = _YAML_DIRECTIVE.search(text)
    if directive and directive.group(1) != "1.2":
        line = text.count("\n", 0, directive.start()) + 1
        _fail(
            display,
            line,
            1,
            f"%YAML {directive.group(1)} is not supported: profiles are YAML 1.2; remove the directive",
        )
    builder = _Builder(_events(text, display), display)
    root = builder.document()
    if builder.problems:
        raise ProfileError(builder.problems)
    if not isinstance(root.value, dict):
        _fail(
            display,
            root.pos.line,
            root.pos.col,
            "a profile must be a mapping of keys such as apiVersion, kind and name",
        )
    return root


def _events(text: str, display: str) -> list[ev.Event]:
    """The file's whole event stream: a syntax error anywhere is reported before any content."""
    try:
        return _parse(text, _Parser, display)
    except MarkedYAMLError as exc:
        error = exc
    except YAMLError as exc:
        _fail(display, 1, 1, f"YAML error: {exc}")
    if "maximum nesting depth" in str(error.problem):
        # libyaml's own limit (1000 levels), hit before its first event: same rule as ours,
        # and the pure-Python parser is quadratic on such input (51 s for 100 KB of `[`)
        mark = error.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        _fail(display, line, col, f"nested too deeply (more than {MAX_DEPTH} levels)")
    if _Parser is not yaml.BaseLoader and len(text) <= _PRECISE_REPARSE_MAX:
        # libyaml's messages are terse ("found character that cannot start any token") and
        # place an unclosed bracket at the end of the file; the pure-Python parser names the
        # character and the opening bracket. Only small failing files pay for the second parse.
        try:
            _parse(text, yaml.BaseLoader, display)
        except MarkedYAMLError as exc:
            error = exc
        except YAMLError:
            pass
    mark = error.problem_mark or error.context_mark
    what = " ".join(p for p in (error.context, error.problem) if p) or "invalid YAML"
    if error.context_mark is not None and "end of stream" in what.replace(
        "<stream end>", "end of stream"
    ):
        # a bracket or quote never closed: the useful place is where it was opened
        mark = error.context_mark
        what += " (it is never closed before the end of the file)"
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    _fail(display, line, col, f"YAML syntax error: {what}")


def _parse(text: str, parser_class: Any, display: str) -> list[ev.Event]:
    """Every event of `text`. Collections nested deeper than MAX_DEPTH stop the parse at the
    first one, with the same message the tree builder gives: a file of a hundred thousand
    `[` is refused after 34 events instead of being parsed to its end (and then again)."""
    parser = parser_class(text)
    try:
        events: list[ev.Event] = []
        open_collections = 0
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, ev.CollectionStartEvent):
                open_collections += 1
                if open_collections > MAX_DEPTH + 1:  # the root collection is depth 0
                    mark = event.start_mark
                    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                    _fail(display, line, col, f"nested too deeply (more than {MAX_DEPTH} levels)")
            elif isinstance(event, ev.CollectionEndEvent):
                open_collections -= 1
            events.append(event)
        return events
    finally:
        parser.dispose()


class _Builder:
    """Builds the Node tree of a stream's one document, collecting every problem found."""

    def __init__(self, events: list[ev.Event], display: str) -> None:
        self.events = events
        self.display = display
        self.at = 0
        self.anchors: set[str] = set()
        self.problems: list[Problem] = []

    def document(self) -> Node:
        starts = [i for i, e in enumerate(self.events) if isinstance(e, ev.DocumentStartEvent)]
        if not starts:
            _fail(
                self.display, 1, 1, "the file is empty; a profile starts with apiVersion: dsenv/v1"
            )
        if len(starts) > 1:
            second = self.events[starts[1] + 1]  # the second document's root
            _fail(
                self.display,
                *self._line_col(second),
                "only one document per profile file; remove the second '---' document",
            )
        self.at = starts[0] + 1
        return self._node(depth=0, written_at=None)

    def _line_col(self, event: ev.Event) -> tuple[int, int]:
        mark = event.start_mark  # every parsed event has one
        return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)

    def _pos(self, event: ev.Event) -> Position:
        return Position(self.display, *self._line_col(event))

    def _next(self) -> ev.Event:
        event = self.events[self.at]
        self.at += 1
        return event

    def _skip(self) -> None:
        """Step over the node starting at the current event."""
        depth = 0
        while True:
            event = self._next()
            if isinstance(event, ev.CollectionStartEvent):
                depth += 1
            elif isinstance(event, ev.CollectionEndEvent):
                depth -= 1
            if depth == 0:
                return

    def _node(self, depth: int, written_at: Position | None) -> Node:
        event = self.events[self.at]
        pos = self._pos(event)
        if isinstance(event, ev.AliasEvent):
            self.at += 1
            if event.anchor in self.anchors:
                message = (
                    f"alias *{event.anchor} is not allowed: write the value out "
                    "(profiles refuse anchors and aliases)"
                )
                self.problems.append(Problem(written_at or pos, message))
            else:
                self.problems.append(
                    Problem(
                        pos, f"found undefined alias {event.anchor!r} (profiles refuse aliases)"
                    )
                )
            return Node(None, pos)
        assert isinstance(event, ev.NodeEvent)
        if event.anchor:
            self.anchors.add(event.anchor)
            self.problems.append(
                Problem(
                    pos,
                    f"anchor &{event.anchor} is not allowed: profiles refuse anchors and aliases",
                )
            )
        if depth > MAX_DEPTH:
            self.problems.append(Problem(pos, f"nested too deeply (more than {MAX_DEPTH} levels)"))
            self._skip()
            return Node(None, pos)
        tag: str | None = getattr(event, "tag", None)  # collections and scalars
        if isinstance(event, ev.MappingStartEvent):
            self.at += 1
            self._check_tag(tag, "map", pos)
            return Node(self._entries(depth, pos), pos)
        if isinstance(event, ev.SequenceStartEvent):
            self.at += 1
            self._check_tag(tag, "seq", pos)
            items: list[Node] = []
            while not isinstance(self.events[self.at], ev.SequenceEndEvent):
                items.append(self._node(depth + 1, pos))
            self.at += 1
            return Node(items, pos)
        assert isinstance(event, ev.ScalarEvent)
        self.at += 1
        raw = event.value
        try:
            value = _scalar(tag, raw, plain=event.implicit[0])
        except ValueError as exc:
            self.problems.append(Problem(pos, str(exc)))
            value = None
        return Node(value, pos, raw=raw)

    def _entries(self, depth: int, pos: Position) -> dict[str, Node]:
        out: dict[str, Node] = {}
        while not isinstance(self.events[self.at], ev.MappingEndEvent):
            key_event = self.events[self.at]
            key_pos = self._pos(key_event)
            key = self._key(key_event, key_pos)
            if key is None:
                self._skip()  # the value of a refused key
                continue
            if key in out:
                first = out[key].key_pos
                self.problems.append(
                    Problem(
                        key_pos,
                        f"duplicate key {key!r} on line {key_pos.line}: already set on line "
                        f"{first.line if first else '?'}; a key may appear once",
                    )
                )
                self._skip()
                continue
            child = self._node(depth + 1, key_pos)
            child.key_pos = key_pos
            out[key] = child
        self.at += 1
        return out

    def _key(self, event: ev.Event, pos: Position) -> str | None:
        """The key's text, or None (the key consumed, a problem recorded) if it is refused."""
        if isinstance(event, ev.ScalarEvent) and not event.anchor:
            plain = event.implicit[0]
            if plain and event.value == "<<":
                self.at += 1
                self.problems.append(
                    Problem(pos, "merge keys (<<) are not allowed; use extends: to inherit")
                )
                return None
            try:
                value = _scalar(event.tag, event.value, plain=plain)
            except ValueError:
                value = None
            if isinstance(value, str):
                self.at += 1
                return value
            self.at += 1
            self.problems.append(Problem(pos, f"keys must be plain strings, not {event.value!r}"))
            return None
        if isinstance(event, ev.CollectionStartEvent):
            what = "a list" if isinstance(event, ev.SequenceStartEvent) else "a mapping"
            self._skip()
            self.problems.append(Problem(pos, f"keys must be plain strings, not {what}"))
            return None
        self._node(0, pos)  # an alias or an anchored key: reported as such
        return None

    def _check_tag(self, tag: str | None, kind: str, pos: Position) -> None:
        if tag not in (None, "!", _CORE + kind):
            self.problems.append(Problem(pos, f"tag {tag} is not allowed; profiles use plain YAML"))


# The YAML 1.2 core schema's plain scalars (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def _scalar(tag: str | None, raw: str, *, plain: bool) -> Any:
    """A scalar's value: plain scalars by the core schema, quoted ones as text, and the
    explicit core tags (!!str, !!int, ...) when the text fits them."""
    if tag is None:
        if not plain:
            return raw
        kind = (
            "null"
            if _NULL.match(raw)
            else "bool"
            if _BOOL.match(raw)
            else "int"
            if _INT.match(raw)
            else "float"
            if _FLOAT.match(raw)
            else "str"
        )
    elif tag == "!":
        kind = "str"  # the non-specific tag: text
    elif tag.startswith(_CORE) and tag.removeprefix(_CORE) in _CORE_SCALARS:
        kind = tag.removeprefix(_CORE)
        if not _CORE_SCALARS[kind].match(raw):
            raise ValueError(f"{raw!r} is not a valid !!{kind}")
    else:
        raise ValueError(
            f"tag {tag} is not allowed; profiles use plain YAML (strings, numbers, booleans, lists, mappings)"
        )
    if kind == "str":
        return raw
    if kind == "null":
        return None
    if kind == "bool":
        return raw.lower() == "true"
    if kind == "int":
        if raw.startswith("0o"):
            return int(raw[2:], 8)
        return int(raw, 16) if raw.startswith("0x") else int(raw)
    low = raw.lower()
    if low in (".inf", "+.inf", "-.inf", ".nan"):
        raise ValueError(f"{raw} is not a usable number")
    number = float(low)
    if math.isinf(number):
        raise ValueError(f"{raw} is too large a number")
    return number


_CORE_SCALARS = {
    "str": re.compile(r"(?s:.*)"),
    "null": _NULL,
    "bool": _BOOL,
    "int": _INT,
    "float": _FLOAT,
}


def _fail(display: str, line: int, col: int, message: str) -> NoReturn:
    raise ProfileError([Problem(Position(display, line, col), message)])
