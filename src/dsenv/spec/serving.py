"""Model serving: KServe in RawDeployment mode (plain Deployments and HPAs), one
InferenceService per declared model, each on its tier."""

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


@dataclass(frozen=True)
class ModelSpec:
    name: str
    framework: str
    storage_uri: str
    min_replicas: int
    max_replicas: int
    pool: NodePoolSpec


@dataclass(frozen=True)
class ServingSpec:
    engine: Literal["kserve"]
    crd_chart: Chart
    chart: Chart
    cert_manager_chart: Chart
    releases: dict[str, str]  # chart -> release: cert-manager, kserve-crd, kserve
    operator_namespace: str
    namespace: str
    labels: dict[str, str]
    service_account: str
    models: tuple[ModelSpec, ...]
    install_operator: bool = True  # False: a shared cert-manager and KServe serve the team
    object_store: ObjectStoreSpec | None = None  # target kubernetes: where s3:// models live


def expand(team: Team, ctx: ExpandContext) -> ServingSpec | None:
    sv = team.serving
    if sv is None:
        return None
    names = ctx.names
    return ServingSpec(
        engine=sv.engine,
        crd_chart=versions.KSERVE_CRD,
        chart=versions.KSERVE,
        cert_manager_chart=versions.CERT_MANAGER,
        releases={c: names.releases[c] for c in ("cert-manager", "kserve-crd", "kserve")},
        operator_namespace=names.operator_namespaces["kserve"],
        namespace=names.namespace,
        labels=ctx.labels,
        service_account=names.service_accounts["serving"],
        models=tuple(
            ModelSpec(
                name=m.name,
                framework=m.framework,
                storage_uri=m.storage_uri,
                min_replicas=m.min_replicas,
                max_replicas=m.max_replicas,
                pool=ctx.pools[m.tier or sv.tier],
            )
            for m in sv.models
        ),
        install_operator=ctx.install_operators,
        object_store=ctx.object_store,
    )
