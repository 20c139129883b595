"""Turn validation errors into `file:line:col: key.path: message` problems."""

from __future__ import annotations

from dsenv.errors import Position, Problem
from dsenv.profile.fields import Issue
from dsenv.profile.yamlnodes import KeyPath, Node


class Locator:
    """Finds the source position of a key path in a (merged) profile tree."""

    def __init__(self, root: Node) -> None:
        self.root = root
        self.index: dict[KeyPath, Node] = dict(root.walk())

    def node(self, path: KeyPath) -> Node:
        while path not in self.index:
            path = path[:-1]
        return self.index[path]

    def value_pos(self, path: KeyPath) -> Position:
        return self.node(path).pos

    def key_pos(self, path: KeyPath) -> Position:
        node = self.index.get(path)
        if node is not None and node.key_pos is not None:
            return node.key_pos
        return self.value_pos(path)

    def problem(self, path: KeyPath, message: str, *, at_key: bool = False) -> Problem:
        pos = self.key_pos(path) if at_key else self.value_pos(path)
        return Problem(pos, message, dotted(path))


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def from_issues(issues: list[Issue], loc: Locator) -> list[Problem]:
    """Validation issues as problems at the source position of the value (or key) each names;
    a missing key at the mapping that lacks it."""
    problems: list[Problem] = []
    for issue in issues:
        if issue.where == "missing":
            problem = Problem(loc.value_pos(issue.path[:-1]), issue.message, dotted(issue.path))
        else:
            problem = loc.problem(issue.path, issue.message, at_key=issue.where == "key")
        if problem not in problems:
            problems.append(problem)
    return problems
