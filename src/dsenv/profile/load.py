"""Loading a profile: read, follow `extends`, merge, validate, check. Errors all at once."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dsenv.capabilities import SECTIONS
from dsenv.errors import Position, Problem, ProfileError
from dsenv.files import regular_file_problem
from dsenv.profile.checks import check_team
from dsenv.profile.fields import ValidationError, validate
from dsenv.profile.merge import deep_merge
from dsenv.profile.model import Constraints, Org, Team
from dsenv.profile.problems import Locator, from_issues
from dsenv.profile.yamlnodes import Node, read_file

#: Keys that belong to one document and are never inherited.
_OWN_KEYS = ("apiVersion", "kind", "name", "extends")


@dataclass(frozen=True)
class OrgLimits:
    """One org document's constraints, and where they were written."""

    org: str
    file: str
    constraints: Constraints


@dataclass(frozen=True)
class LoadedProfile:
    path: str  # as the user named it
    kind: str  # "Team" or "Org"
    tree: Node  # merged, every value with its source position
    model: Team | Org
    limits: tuple[OrgLimits, ...] = ()
    files: tuple[str, ...] = field(default_factory=tuple)  # the extends chain, this file first

    @property
    def team(self) -> Team:
        if not isinstance(self.model, Team):
            raise TypeError("not a Team profile")
        return self.model


@dataclass
class _Resolved:
    kind: str
    own: Node  # this kind's documents merged (a team's org defaults not yet applied)
    org: Node | None  # for a Team: the nearest org's merged tree
    org_docs: list[tuple[str, Node]]  # (display path, document) of every org in the chain
    files: list[str]


def load_profile(path: str | os.PathLike[str]) -> LoadedProfile:
    display = os.fspath(path)
    resolved = _resolve(Path(display), display, [])
    problems: list[Problem] = []

    if resolved.org is not None:
        _validate(Org, resolved.org, problems)  # a team also reports its org's errors

    if resolved.kind == "Org":
        model = _validate(Org, resolved.own, problems)
        tree = resolved.own
    else:
        tree = resolved.own
        if resolved.org is not None:
            tree = deep_merge(_org_base(resolved.org, resolved.own), resolved.own)
        model = _validate(Team, tree, problems)

    limits = tuple(_limits(resolved.org_docs, problems))
    if problems:
        # an inherited value is checked with the org and again in the merged team: say it once
        raise ProfileError(list(dict.fromkeys(problems)))
    assert isinstance(model, Team | Org)
    if isinstance(model, Team):
        problems.extend(check_team(model, limits, Locator(tree)))
        if problems:
            raise ProfileError(problems)
    return LoadedProfile(display, resolved.kind, tree, model, limits, tuple(resolved.files))


def load_team(path: str | os.PathLike[str]) -> LoadedProfile:
    loaded = load_profile(path)
    if loaded.kind != "Team":
        kind_node = loaded.tree.get("kind")
        pos = kind_node.pos if kind_node else Position(loaded.path, 1, 1)
        raise ProfileError(
            [Problem(pos, "this is an Org profile; this command needs a Team profile", "kind")]
        )
    return loaded


def find_profiles(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Files as given; folders searched recursively for *.yaml and *.yml, sorted."""
    found: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found.extend(
                os.path.join(os.fspath(p), os.path.relpath(f, path))
                for f in sorted(path.rglob("*"))
                if f.suffix in (".yaml", ".yml") and f.is_file()
            )
        else:
            found.append(os.fspath(p))
    return found


#: Parsed parent profiles, so that validating many teams of one org parses the org once.
_PARENTS: dict[tuple[str, str, int, int, int], Node] = {}
_PARENTS_MAX = 64


def _read_parent(path: Path, display: str) -> Node:
    stat = path.stat()
    key = (str(path), display, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    tree = _PARENTS.get(key)
    if tree is None:
        tree = read_file(path, display)  # a ProfileError is raised, never cached
        if len(_PARENTS) >= _PARENTS_MAX:
            _PARENTS.clear()
        _PARENTS[key] = tree
    return tree


def _resolve(path: Path, display: str, stack: list[Path]) -> _Resolved:
    root = _read_parent(path, display) if stack else read_file(path, display)
    kind = _kind(root, display)
    extends = root.get("extends")
    if extends is None or extends.value is None:
        if kind == "Org":
            return _Resolved("Org", root, None, [(display, root)], [display])
        return _Resolved("Team", root, None, [], [display])

    if not isinstance(extends.value, str) or not extends.value:
        raise ProfileError(
            [Problem(extends.pos, "extends must be a path to a profile file", "extends")]
        )
    target = (path.parent / extends.value).resolve()
    target_display = os.path.normpath(os.path.join(os.path.dirname(display), extends.value))
    chain = [*stack, path.resolve()]
    if target in chain:
        names = " -> ".join([*(os.path.basename(p) for p in chain), os.path.basename(target)])
        raise ProfileError([Problem(extends.pos, f"extends cycle: {names}", "extends")])
    why = regular_file_problem(target)
    if why is not None:
        raise ProfileError(
            [Problem(extends.pos, f"extends names {target_display}, which {why}", "extends")]
        )
    parent = _resolve(target, target_display, chain)
    files = [display, *parent.files]

    if kind == "Org":
        if parent.kind != "Org":
            raise ProfileError(
                [Problem(extends.pos, "an Org may only extend another Org", "extends")]
            )
        own = deep_merge(_strip(parent.own), root)
        return _Resolved("Org", own, None, [*parent.org_docs, (display, root)], files)
    if parent.kind == "Org":
        return _Resolved("Team", root, parent.own, parent.org_docs, files)
    return _Resolved(
        "Team", deep_merge(_strip(parent.own), root), parent.org, parent.org_docs, files
    )


def _kind(root: Node, display: str) -> str:
    node = root.get("kind")
    if node is None:
        raise ProfileError([Problem(root.pos, "missing required key 'kind' (Org or Team)", "kind")])
    if node.value not in ("Org", "Team"):
        raise ProfileError(
            [Problem(node.pos, f"kind must be Org or Team, not {node.value!r}", "kind")]
        )
    return str(node.value)


def _strip(tree: Node) -> Node:
    assert isinstance(tree.value, dict)
    return Node({k: v for k, v in tree.value.items() if k not in _OWN_KEYS}, tree.pos, tree.key_pos)


def _org_base(org: Node, team: Node) -> Node:
    """What a team inherits from its org: target, tags, the org's name, and its defaults.

    A capability default (e.g. `defaults.kafka`) is inherited only by teams that declare the
    section: an org default never switches a capability on.
    """
    assert isinstance(org.value, dict) and isinstance(team.value, dict)
    base: dict[str, Node] = {}
    for key in ("target", "tags"):
        if key in org.value:
            base[key] = org.value[key]
    if "name" in org.value:
        base["org"] = org.value["name"]
    defaults = org.value.get("defaults")
    if defaults is not None and isinstance(defaults.value, dict):
        for key, value in defaults.value.items():
            if key in SECTIONS and key not in team.value:
                continue
            base[key] = value
    return Node(base, org.pos)


def _validate(model: type[Team | Org], tree: Node, problems: list[Problem]) -> Team | Org | None:
    try:
        return validate(model, tree.plain())
    except ValidationError as exc:
        problems.extend(from_issues(exc.issues, Locator(tree)))
        return None


def _limits(org_docs: list[tuple[str, Node]], problems: list[Problem]) -> Iterable[OrgLimits]:
    for _display, doc in org_docs:
        node = doc.get("constraints")
        name = doc.get("name")
        if node is None or not isinstance(node.value, dict):
            continue
        try:
            constraints = validate(Constraints, node.plain())
        except ValidationError:
            continue  # reported when the org itself is validated
        yield OrgLimits(str(name.value if name else "?"), node.pos.file, constraints)
