"""Expansion: a validated Team profile -> EnvironmentSpec. Pure, deterministic, no Pulumi.

Names come first (`names.py`: every physical name, decided once), then the tiers and the
team image, then one expander per capability, each `expand(team, ctx) -> spec | None`
(None: the profile does not ask for it).
"""

from __future__ import annotations

from dsenv import __version__
from dsenv.profile.load import LoadedProfile
from dsenv.profile.model import Team
from dsenv.spec import (
    aws,
    base,
    clients,
    image,
    kafka,
    objectstore,
    pipelines,
    runners,
    serving,
    spark,
    tiers,
    workspaces,
)
from dsenv.spec.context import ExpandContext
from dsenv.spec.model import EnvironmentSpec
from dsenv.spec.names import names_for


def object_labels(team: Team) -> dict[str, str]:
    return {
        "app.kubernetes.io/managed-by": "dsenv",
        "dsenv.io/team": team.name,
        **({"dsenv.io/org": team.org} if team.org else {}),
    }


def aws_tags(team: Team) -> dict[str, str]:
    tags = {
        **team.tags,
        "dsenv:team": team.name,
        **({"dsenv:org": team.org} if team.org else {}),
        "dsenv:managed-by": "dsenv",
    }
    return dict(sorted(tags.items()))


def expand(team: Team, *, org_max_monthly_usd: float | None = None) -> EnvironmentSpec:
    names = names_for(team)
    labels = object_labels(team)
    pools = tiers.expand(team, names)
    team_image = image.expand(team, names)
    ctx = ExpandContext(
        team=team,
        names=names,
        labels=labels,
        pools={p.tier: p for p in pools},
        image=team_image.ref,
        image_pull_secret=team.target.image_pull_secret,
        object_store=objectstore.expand(team),
    )
    spark_spec = spark.expand(team, ctx)
    kafka_spec = kafka.expand(team, ctx)
    return EnvironmentSpec(
        team=team.name,
        org=team.org,
        provider=team.target.provider,
        kube_context=team.target.context,
        kubernetes_version=team.target.kubernetes_version,
        stack_name=names.prefix,
        namespace=base.expand(team, ctx),
        labels=labels,
        tags=aws_tags(team),
        node_pools=pools,
        image=team_image,
        aws=aws.expand(team, ctx),
        workspaces=workspaces.expand(
            team, ctx, clients.expand(spark_spec, kafka_spec, team.pipelines is not None)
        ),
        spark=spark_spec,
        kafka=kafka_spec,
        runners=runners.expand(team, ctx),
        serving=serving.expand(team, ctx),
        pipelines=pipelines.expand(team, ctx),
        object_store=ctx.object_store,
        budget_monthly_usd=team.budget.monthly_usd if team.budget else None,
        org_max_monthly_usd=org_max_monthly_usd,
        owners=tuple(team.owners),
        dsenv_version=__version__,
    )


def expand_profile(loaded: LoadedProfile) -> EnvironmentSpec:
    """Expand a loaded Team profile, carrying the org's budget cap into the spec."""
    caps = [lim.constraints.max_monthly_usd for lim in loaded.limits]
    cap = min((c for c in caps if c is not None), default=None)
    return expand(loaded.team, org_max_monthly_usd=cap)
