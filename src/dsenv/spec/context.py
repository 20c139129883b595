"""What every capability's expander is given besides the team: the names, labels, tiers
and image decided once for the whole environment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dsenv.profile.model import Team
    from dsenv.spec.names import Names
    from dsenv.spec.objectstore import ObjectStoreSpec
    from dsenv.spec.tiers import NodePoolSpec


@dataclass(frozen=True)
class ExpandContext:
    team: Team
    names: Names
    labels: dict[str, str]  # on every Kubernetes object
    pools: dict[str, NodePoolSpec]  # tier -> pool
    image: str  # the team image, repository:tag (target kubernetes: under its registry)
    image_pull_secret: str | None = None  # target kubernetes: the pods' pull credentials
    object_store: ObjectStoreSpec | None = None  # target kubernetes: the referenced S3 store

    @property
    def install_operators(self) -> bool:
        """`target.operators`: install each capability's operator for this team, or use the
        cluster's shared ones (whose namespaces `Names.operator_namespaces` then names)."""
        return self.team.target.operators == "install"
