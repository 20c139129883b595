"""CI runners: Actions Runner Controller and one runner scale set per repository (or one for
the organization), scaling to zero, on the team image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dsenv.spec import versions
from dsenv.spec.objectstore import ObjectStoreSpec
from dsenv.spec.tiers import NodePoolSpec
from dsenv.spec.versions import Chart

if TYPE_CHECKING:
    from dsenv.profile.model import Team
    from dsenv.spec.context import ExpandContext

#: The controller's service account when dsenv installs the controller for the team.
CONTROLLER_SERVICE_ACCOUNT = "arc-controller"
#: The service account of a shared controller installed as ARC's documented quick start does
#: (`helm install arc ... gha-runner-scale-set-controller`): the chart names it
#: `<release>-gha-rs-controller`.
SHARED_CONTROLLER_SERVICE_ACCOUNT = "arc-gha-rs-controller"


@dataclass(frozen=True)
class ScaleSetSpec:
    name: str  # runner scale set name: the `runs-on` label and its Helm release
    config_url: str  # https://github.com/<org> or https://github.com/<owner>/<repo>
    min_runners: int
    max_runners: int


@dataclass(frozen=True)
class RunnersSpec:
    provider: Literal["github"]
    controller_chart: Chart
    scale_set_chart: Chart
    controller_release: str
    controller_namespace: str
    controller_service_account: str  # the one the scale sets' RoleBindings name
    namespace: str
    labels: dict[str, str]
    service_account: str  # the runners' identity
    credentials_secret: str
    pool: NodePoolSpec
    image: str
    uid: int
    gid: int
    scale_sets: tuple[ScaleSetSpec, ...]
    install_operator: bool = True  # False: the scale sets bind a shared ARC controller
    image_pull_secret: str | None = None  # target kubernetes: pull credentials of the image
    object_store: ObjectStoreSpec | None = None  # target kubernetes: the runners' S3 store


def expand(team: Team, ctx: ExpandContext) -> RunnersSpec | None:
    r = team.ci_runners
    if r is None:
        return None
    names = ctx.names
    scopes = r.repositories or [r.organization]
    return RunnersSpec(
        provider=r.provider,
        controller_chart=versions.ARC_CONTROLLER,
        scale_set_chart=versions.ARC_SCALE_SET,
        controller_release=names.releases["arc"],
        controller_namespace=names.operator_namespaces["arc"],
        controller_service_account=CONTROLLER_SERVICE_ACCOUNT
        if ctx.install_operators
        else SHARED_CONTROLLER_SERVICE_ACCOUNT,
        namespace=names.runners_namespace,
        labels=ctx.labels,
        service_account=names.service_accounts["runners"],
        credentials_secret=r.credentials_secret,
        pool=ctx.pools[r.tier],
        image=ctx.image,
        uid=versions.WORKSPACE_UID,
        gid=versions.WORKSPACE_GID,
        scale_sets=tuple(
            ScaleSetSpec(
                name=names.scale_sets[scope],
                config_url=f"https://github.com/{scope}",
                min_runners=r.min_runners,
                max_runners=r.max_runners,
            )
            for scope in scopes
        ),
        install_operator=ctx.install_operators,
        image_pull_secret=ctx.image_pull_secret,
        object_store=ctx.object_store,
    )
