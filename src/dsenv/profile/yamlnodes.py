"""Strict YAML 1.2 reading that keeps the source position of every key and value.

ruamel.yaml composes the node tree (YAML 1.2 resolution: `NO` stays a string); dsenv then
builds its own tree of `Node`s so that every value knows its file, line and column, and so
that anchors, aliases, merge keys, custom tags and duplicate keys are refused with a
position rather than silently resolved.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml import nodes as yn
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from dsenv.errors import Position, Problem, ProfileError

MAX_BYTES = 1024 * 1024
_YAML_DIRECTIVE = re.compile(r"^%YAML[ \t]+(\S*)", re.MULTILINE)
MAX_DEPTH = 32

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
    """Read one profile file into a Node tree or raise ProfileError."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            _fail(
                display,
                1,
                1,
                f"file is {size} bytes; profiles are limited to {MAX_BYTES} bytes (1 MiB)",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        _fail(display, 1, 1, "no such file")
    except IsADirectoryError:
        _fail(display, 1, 1, "is a directory, not a profile file")
    except OSError as exc:
        _fail(display, 1, 1, f"cannot read: {exc.strerror or exc}")
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
    for i, ch in enumerate(text):
        if ch in "\x00\ufffe\uffff" or ("\x01" <= ch <= "\x08"):
            line = text.count("\n", 0, i) + 1
            col = i - (text.rfind("\n", 0, i) + 1) + 1
            _fail(
                display, line, col, f"control character U+{ord(ch):04X} is not allowed in a profile"
            )
    directive = _YAML_DIRECTIVE.search(text)
    if directive and directive.group(1) != "1.2":
        line = text.count("\n", 0, directive.start()) + 1
        _fail(
            display,
            line,
            1,
            f"%YAML {directive.group(1)} is not supported: profiles are YAML 1.2; remove the directive",
        )
    # The pure safe loader composes without the round-trip scanner's comment bookkeeping
    # (about twice as fast); anchors and aliases are refused while building the tree.
    yaml = YAML(typ="safe", pure=True)
    try:
        documents = list(yaml.compose_all(text))
    except ProfileError:
        raise
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        if exc.context_mark is not None and "end of stream" in what.replace(
            "<stream end>", "end of stream"
        ):
            # a bracket or quote never closed: the useful place is where it was opened
            mark = exc.context_mark
            what += " (it is never closed before the end of the file)"
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        _fail(display, line, col, f"YAML syntax error: {what}")
    except RecursionError:
        _fail(display, 1, 1, f"document is nested too deeply (more than {MAX_DEPTH} levels)")
    except YAMLError as exc:
        _fail(display, 1, 1, f"YAML error: {exc}")
    except Exception as exc:  # the parser's own failures on adversarial text are input errors too
        _fail(display, 1, 1, f"YAML error: {type(exc).__name__}: {exc}")
    documents = [d for d in documents if d is not None]
    if not documents:
        _fail(display, 1, 1, "the file is empty; a profile starts with apiVersion: dsenv/v1")
    if len(documents) > 1:
        m = documents[1].start_mark
        _fail(
            display,
            m.line + 1,
            m.column + 1,
            "only one document per profile file; remove the second '---' document",
        )
    problems: list[Problem] = []
    root = _build(documents[0], display, problems, depth=0, seen=set())
    if problems:
        raise ProfileError(problems)
    if not isinstance(root.value, dict):
        _fail(
            display,
            root.pos.line,
            root.pos.col,
            "a profile must be a mapping of keys such as apiVersion, kind and name",
        )
    return root


def _build(
    node: yn.Node,
    display: str,
    problems: list[Problem],
    depth: int,
    seen: set[int],
    written_at: Position | None = None,
) -> Node:
    pos = Position(display, node.start_mark.line + 1, node.start_mark.column + 1)
    anchor = getattr(node, "anchor", None)
    if id(node) in seen:  # the composer hands an alias back as the anchored node itself
        problems.append(
            Problem(
                written_at or pos,
                f"alias *{anchor} is not allowed: write the value out (profiles refuse anchors and aliases)",
            )
        )
        return Node(None, pos)
    seen.add(id(node))
    if anchor:
        problems.append(
            Problem(pos, f"anchor &{anchor} is not allowed: profiles refuse anchors and aliases")
        )
    if depth > MAX_DEPTH:
        problems.append(Problem(pos, f"nested too deeply (more than {MAX_DEPTH} levels)"))
        return Node(None, pos)
    tag = str(getattr(node.tag, "value", node.tag) or "")
    if isinstance(node, yn.MappingNode):
        if tag != _CORE + "map":
            problems.append(Problem(pos, f"tag {tag} is not allowed; profiles use plain YAML"))
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key_pos = Position(
                display, key_node.start_mark.line + 1, key_node.start_mark.column + 1
            )
            key_tag = str(getattr(key_node.tag, "value", key_node.tag) or "")
            if key_tag == _CORE + "merge":
                problems.append(
                    Problem(key_pos, "merge keys (<<) are not allowed; use extends: to inherit")
                )
                continue
            if not isinstance(key_node, yn.ScalarNode) or key_tag != _CORE + "str":
                what = (
                    "a list"
                    if isinstance(key_node, yn.SequenceNode)
                    else (
                        "a mapping"
                        if isinstance(key_node, yn.MappingNode)
                        else repr(key_node.value)
                    )
                )
                problems.append(Problem(key_pos, f"keys must be plain strings, not {what}"))
                continue
            key = str(key_node.value)
            if key in out:
                first = out[key].key_pos
                problems.append(
                    Problem(
                        key_pos,
                        f"duplicate key {key!r} on line {key_pos.line}: already set on line "
                        f"{first.line if first else '?'}; a key may appear once",
                    )
                )
                continue
            child = _build(value_node, display, problems, depth + 1, seen, key_pos)
            child.key_pos = key_pos
            out[key] = child
        return Node(out, pos)
    if isinstance(node, yn.SequenceNode):
        if tag != _CORE + "seq":
            problems.append(Problem(pos, f"tag {tag} is not allowed; profiles use plain YAML"))
        return Node(
            [_build(item, display, problems, depth + 1, seen, pos) for item in node.value], pos
        )
    raw = str(node.value)
    try:
        value = _scalar(tag, raw)
    except ValueError as exc:
        problems.append(Problem(pos, str(exc)))
        value = None
    return Node(value, pos, raw=raw)


def _scalar(tag: str, raw: str) -> Any:
    kind = tag.removeprefix(_CORE) if tag.startswith(_CORE) else None
    if kind in {"str", "timestamp"}:
        return raw  # YAML 1.2 core has no timestamps: a date stays the text it is
    if kind == "null":
        return None
    if kind == "bool":
        return raw.lower() == "true"
    if kind == "int":
        text = raw.replace("_", "")
        if text.lower().startswith(("0o", "+0o", "-0o")):
            return int(text.replace("0o", "").replace("0O", ""), 8)
        return int(text, 0) if text.lower().lstrip("+-").startswith("0x") else int(text)
    if kind == "float":
        low = raw.lower().replace("_", "")
        if low in (".inf", "+.inf", "-.inf", ".nan"):
            raise ValueError(f"{raw} is not a usable number")
        number = float(low)
        if math.isinf(number):
            raise ValueError(f"{raw} is too large a number")
        return number
    raise ValueError(
        f"tag {tag} is not allowed; profiles use plain YAML (strings, numbers, booleans, lists, mappings)"
    )


def _fail(display: str, line: int, col: int, message: str) -> Any:
    raise ProfileError([Problem(Position(display, line, col), message)])
