"""The documented deep merge of profile trees.

    mappings merge key by key, recursively;
    lists replace (a team's list wins whole);
    scalars replace;
    `null` removes the key (a team writes `kafka: null` to drop an inherited section).

Merging works on position-carrying `Node` trees, so every merged value still knows the
file and line it came from (`dsenv explain`, and errors on inherited values).
"""

from __future__ import annotations

from dsenv.profile.yamlnodes import Node


def deep_merge(base: Node, overlay: Node) -> Node:
    if not (isinstance(base.value, dict) and isinstance(overlay.value, dict)):
        return overlay
    merged: dict[str, Node] = dict(base.value)
    for key, value in overlay.value.items():
        if value.value is None:
            merged.pop(key, None)
        elif key in merged:
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return Node(merged, overlay.pos, key_pos=overlay.key_pos)
