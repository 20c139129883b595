"""Property tests of the loader and of expansion (hypothesis).

- Whatever text or bytes reach the loader, it returns a tree or raises ProfileError: never
  another exception (which the CLI would report as an internal error).
- Every generated valid Team profile (target aws or kubernetes, standalone or extending the
  example org) loads, and expands to the same EnvironmentSpec every time, also after its
  final values are written back out as YAML and loaded again.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from testkit import PROFILES

from dsenv.errors import ProfileError
from dsenv.profile.fields import to_data
from dsenv.profile.load import load_profile, load_team
from dsenv.profile.model import AWS_TIER_KEYS, KUBERNETES_TIER_KEYS
from dsenv.profile.types import parse_bytes as quantity_bytes
from dsenv.profile.yamlnodes import Node, parse_bytes, parse_text
from dsenv.spec.expand import expand_profile

ORG = PROFILES / "org" / "acme.yaml"
FAST = settings(max_examples=300, deadline=None)
LOADER = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of YAML, so that generated text reaches the parser's and the builder's deeper paths
# (flow and block collections, anchors, tags, documents, scalars of every type).
TOKENS = [
    "apiVersion: dsenv/v1\n",
    "kind: Team\n",
    "kind: Org\n",
    "name: t\n",
    "tiers:\n",
    "  small: {cpu: 1, memory: 6Gi, instance_types: [m7i.large]}\n",
    "target: {provider: aws}\n",
    "extends: x.yaml\n",
    "a",
    ":",
    ": ",
    " ",
    "  ",
    "\n",
    "\t",
    "-",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "?",
    "&a ",
    "*a",
    "!t ",
    "!!str ",
    "!!int ",
    "!!float ",
    "!!binary ",
    "<<: ",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "'",
    '"',
    "\\",
    "#",
    "|\n",
    ">\n",
    "1.30",
    "0x1F",
    "0o17",
    "1e999",
    ".inf",
    ".nan",
    "~",
    "null",
    "NO",
    "yes",
    "true",
    "-1",
    "1_000",
    "2024-01-01",
    "\x00",
    "\ufeff",
    "é",
    "\U0001f600",
    "\x85",
    "\u2028",
    "= ",
]
yamlish = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)


def _parse_or_profile_error(call: Any, *args: Any) -> None:
    try:
        result = call(*args)
    except ProfileError as exc:
        assert exc.problems, "a ProfileError names at least one problem"
        for problem in exc.problems:
            assert problem.position.line >= 1 and problem.position.col >= 1
    else:
        assert isinstance(result, Node) and isinstance(result.value, dict)


@FAST
@given(st.text())
def test_any_text_parses_or_raises_profile_error(text: str) -> None:
    _parse_or_profile_error(parse_text, text, "t.yaml")


@FAST
@given(yamlish)
def test_yaml_like_text_parses_or_raises_profile_error(text: str) -> None:
    _parse_or_profile_error(parse_text, text, "t.yaml")


@FAST
@given(st.binary())
def test_any_bytes_parse_or_raise_profile_error(data: bytes) -> None:
    _parse_or_profile_error(parse_bytes, data, "t.yaml")


def _load_text(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        try:
            load_profile(path)
        except ProfileError as exc:
            assert exc.problems
            assert all(str(p).startswith(str(path)) for p in exc.problems)
            event("refused: " + ("YAML" if "YAML" in str(exc) else "validation"))
        else:
            event("loaded")


@LOADER
@given(st.one_of(yamlish, st.text(), st.binary()))
def test_any_file_loads_or_raises_profile_error(text: str | bytes) -> None:
    _load_text(text)


# The full example team, standalone (its org's target inlined), so edits reach validation.
_EXAMPLE = (
    (PROFILES / "fraud.yaml")
    .read_text(encoding="utf-8")
    .replace("extends: org/acme.yaml\n", "target: {provider: aws, region: eu-west-1}\n")
)


@LOADER
@given(
    st.lists(
        st.tuples(st.integers(0, len(_EXAMPLE)), st.integers(0, 8), st.sampled_from(TOKENS)),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_example_profile_loads_or_raises_profile_error(
    edits: list[tuple[int, int, str]],
) -> None:
    """Small edits of a real profile reach validation, cross-references and constraints."""
    text = _EXAMPLE
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut :]
    _load_text(text)


# ---- generated valid Team profiles ----------------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,4})?", fullmatch=True)
durations = st.sampled_from(["90s", "30m", "1h", "2h", "1h30m", "7d"])
quantities = st.builds(
    "{}{}".format, st.integers(1, 512), st.sampled_from(["Mi", "Gi", "Ti", "G", ""])
)
cpus = st.one_of(st.integers(1, 96), st.sampled_from(["500m", "0.5", "2", "1500m", 0.25]))


@st.composite
def team_profiles(draw: st.DrawFn) -> dict[str, Any]:
    shape = draw(st.sampled_from(["aws", "kubernetes", "aws-org"]))
    aws = shape != "kubernetes"
    tier_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    gpu_tier = draw(st.sampled_from([None, *tier_names]))
    tiers = {}
    for tier in tier_names:
        spec: dict[str, Any] = {"cpu": draw(cpus), "memory": draw(quantities)}
        if tier == gpu_tier:
            spec["gpus"] = draw(st.integers(1, 2))
        if aws:
            # what one workspace gets fits one node of the smallest type drawn (m7i.large)
            spec["cpu"] = draw(st.sampled_from(["500m", "1", "1500m", 0.25, 1]))
            spec["memory"] = draw(st.sampled_from(["512Mi", "1Gi", "4Gi", "6Gi", "6000Mi"]))
            spec.pop("gpus", None)
            if tier == gpu_tier:
                spec["gpus"] = 1
            max_nodes = draw(st.integers(1, 3 if shape == "aws-org" else 20))
            spec["instance_types"] = draw(
                st.lists(
                    st.sampled_from(
                        ["g5.2xlarge"]
                        if tier == gpu_tier
                        else ["m7i.large", "r7i.xlarge", "g5.2xlarge"]
                    ),
                    min_size=1,
                    max_size=2,
                    unique=True,
                )
            )
            spec["max_nodes"] = max_nodes
            spec["min_nodes"] = draw(st.integers(0, max_nodes))
            if draw(st.booleans()):
                spec["spot"] = draw(st.booleans())
            if draw(st.booleans()):
                spec["disk"] = draw(quantities)
        else:
            spec["max_pods"] = draw(st.integers(1, 20))
            if draw(st.booleans()):
                spec["node_selector"] = {"node.acme.example/pool": tier}
            if tier == gpu_tier:
                spec["tolerations"] = [
                    {
                        "key": "dedicated",
                        "operator": "Equal",
                        "value": "gpu",
                        "effect": "NoSchedule",
                    }
                ]
                spec["gpu_resource"] = draw(st.sampled_from(["nvidia.com/gpu", "amd.com/gpu"]))
        tiers[tier] = spec
    tier = st.sampled_from(tier_names)

    profile: dict[str, Any] = {"apiVersion": "dsenv/v1", "kind": "Team", "name": draw(names)}
    if shape == "aws-org":
        profile["extends"] = "ORG"  # replaced by a path relative to where the file is written
        profile["budget"] = {"monthly_usd": draw(st.integers(1, 20000))}
    elif aws:
        profile["target"] = {
            "provider": "aws",
            "region": draw(st.sampled_from(["eu-west-1", "us-east-2"])),
        }
    else:
        profile["target"] = {"provider": "kubernetes"}
        context = draw(st.sampled_from([None, "kind-kind", "prod"]))
        if context:
            profile["target"]["context"] = context
        if draw(st.booleans()):
            profile["target"]["registry"] = draw(
                st.sampled_from(["ghcr.io/acme", "harbor.lab.example:8443/data", "localhost:5001"])
            )
        if draw(st.booleans()):
            profile["target"]["object_storage"] = {
                "endpoint": draw(
                    st.sampled_from(["https://s3.lab.example", "http://minio.s3.svc:9000"])
                ),
                "credentials_secret": "s3-credentials",
            }
    if draw(st.booleans()):
        profile.setdefault("target", {})["kubernetes_version"] = draw(
            st.sampled_from(["1.31", "1.33"])
        )
    profile["tiers"] = tiers
    if draw(st.booleans()):
        profile["tags"] = draw(st.dictionaries(names, names, max_size=3))
    with_r = draw(st.booleans())
    profile["languages"] = {
        "python": {"version": draw(st.sampled_from(["3.11", "3.12"])), "packages": ["pandas"]}
    }
    if with_r:
        profile["languages"]["r"] = {"version": "4.4", "packages": ["tidyverse"]}
    tools = ["jupyterlab", "vscode", "mlflow", *(["rstudio"] if with_r else [])]
    profile["tools"] = draw(st.lists(st.sampled_from(tools), min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):
        profile["groups"] = {
            g: {
                "members": draw(st.lists(names, max_size=3)),
                "tiers": draw(st.lists(tier, min_size=1, max_size=3, unique=True)),
            }
            for g in draw(st.lists(names, min_size=1, max_size=3, unique=True))
        }
    if draw(st.booleans()):
        ws: dict[str, Any] = {"idle_timeout": draw(durations), "storage": draw(quantities)}
        if draw(st.booleans()):
            ws["default_tier"] = draw(tier)
        profile["workspaces"] = ws
    if draw(st.booleans()):
        engines = ["operator", "emr-on-eks", "emr-serverless"] if aws else ["operator"]
        profile["spark"] = {
            "engine": draw(st.sampled_from(engines)),
            "driver_tier": draw(tier),
            "executor_tier": draw(tier),
            "max_executors": draw(st.integers(1, 100)),
        }
        if profile["spark"]["engine"] == "operator":
            # a Spark pod needs a heap plus Spark's 384Mi minimum overhead (refused below)
            for key in ("driver_tier", "executor_tier"):
                t = profile["tiers"][profile["spark"][key]]
                if quantity_bytes(str(t["memory"])) < 2**30:
                    t["memory"] = "1Gi"
    if draw(st.booleans()):
        engine = draw(st.sampled_from(["strimzi", "msk", "msk-serverless"] if aws else ["strimzi"]))
        brokers = draw(st.sampled_from([2, 4, 6])) if engine == "msk" else draw(st.integers(1, 5))
        # MSK has no topic or user API: topics and users are Strimzi's only
        strimzi = engine == "strimzi"
        topics = draw(st.lists(names, max_size=3 if strimzi else 0, unique=True))
        profile["kafka"] = {
            "engine": engine,
            "brokers": brokers,
            "topics": [
                {
                    "name": t,
                    "partitions": draw(st.integers(1, 24)),
                    "replicas": draw(st.integers(1, brokers)),
                    "retention": draw(durations),
                }
                for t in topics
            ],
            "users": [
                {
                    "name": u,
                    "topics": draw(st.lists(st.sampled_from(topics), unique=True))
                    if topics
                    else [],
                }
                for u in draw(st.lists(names, max_size=2 if strimzi else 0, unique=True))
                if u != "workspaces"  # the workspaces' own KafkaUser
            ],
        }
    if draw(st.booleans()):
        profile["ci_runners"] = {
            "provider": "github",
            "organization": "acme",
            "repositories": [f"acme/{r}" for r in draw(st.lists(names, max_size=2, unique=True))],
            "tier": draw(tier),
            "max_runners": draw(st.integers(1, 10)),
        }
    if draw(st.booleans()):
        models = []
        for m in draw(st.lists(names, max_size=3, unique=True)):
            low = draw(st.integers(1, 3))  # RawDeployment cannot scale to zero
            model = {
                "name": m,
                "framework": draw(st.sampled_from(["sklearn", "pytorch", "onnx", "huggingface"])),
                # target kubernetes reads s3:// only from a referenced store
                "storage_uri": f"s3://bucket/models/{m}/1"
                if aws or "object_storage" in profile["target"]
                else f"pvc://models/{m}/1",
                "min_replicas": low,
                "max_replicas": draw(st.integers(max(low, 1), 6)),
            }
            if draw(st.booleans()):
                model["tier"] = draw(tier)
            models.append(model)
        profile["serving"] = {"tier": draw(tier), "models": models}
    if shape != "aws-org" and draw(st.booleans()):
        profile["budget"] = {"monthly_usd": draw(st.integers(1, 100000))}
    return profile


def _write(profile: dict[str, Any], folder: Path, name: str = "team.yaml") -> Path:
    if profile.get("extends") == "ORG":
        profile = {**profile, "extends": os.path.relpath(ORG, folder)}
    path = folder / name
    path.write_text(yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
    return path


def _expands_deterministically(profile: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            loaded = load_team(_write(profile, folder))
        except ProfileError as exc:  # pragma: no cover - the message is the useful part
            pytest.fail(f"generated profile does not load:\n{exc}\n{yaml.safe_dump(profile)}")
        team = loaded.team
        event(f"target {team.target.provider}{' extending the org' if team.org else ''}")
        sections = ("workspaces", "spark", "kafka", "ci_runners", "serving")
        event(f"{sum(getattr(team, s) is not None for s in sections)} capability sections")
        first, second = expand_profile(loaded), expand_profile(load_team(folder / "team.yaml"))
        assert first == second
        # The final values, written out and loaded again, describe the same environment.
        final = {k: v for k, v in to_data(loaded.model).items() if k not in ("extends", "org")}
        # a tier's keys of the other target are an error even at their defaults: leave them out
        foreign = KUBERNETES_TIER_KEYS if team.target.provider == "aws" else AWS_TIER_KEYS
        for tier in final["tiers"].values():
            for key in foreign:
                tier.pop(key, None)
        if loaded.team.org:
            final["extends"] = "ORG"
        again = load_team(_write(final, folder, "final.yaml"))
        assert again.model == loaded.model
        assert expand_profile(again) == first


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(team_profiles())
def test_generated_valid_team_profile_loads_and_expands_deterministically(
    profile: dict[str, Any],
) -> None:
    _expands_deterministically(profile)


@pytest.mark.slow
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(team_profiles())
def test_many_generated_valid_team_profiles_expand_deterministically(
    profile: dict[str, Any],
) -> None:
    _expands_deterministically(profile)


@settings(max_examples=40, deadline=None)
@given(team_profiles(), st.sampled_from(["tiers", "workspaces", "spark", "ci_runners", "serving"]))
def test_generated_profile_with_a_dangling_tier_reference_is_refused(
    profile: dict[str, Any], section: str
) -> None:
    """The generator is not vacuous: break one tier reference and the loader must object."""
    refs = {
        "workspaces": ("default_tier",),
        "spark": ("driver_tier", "executor_tier"),
        "ci_runners": ("tier",),
        "serving": ("tier",),
    }
    if section == "tiers":
        assume(profile.get("workspaces", {}).get("default_tier") or "groups" in profile)
        missing = "zz-missing"
        if profile.get("workspaces", {}).get("default_tier"):
            profile["workspaces"]["default_tier"] = missing
        else:
            next(iter(profile["groups"].values()))["tiers"] = [missing]
    else:
        assume(section in profile)
        profile[section][refs[section][0]] = "zz-missing"
    with tempfile.TemporaryDirectory() as tmp, pytest.raises(ProfileError) as info:
        load_team(_write(profile, Path(tmp)))
    assert "tier 'zz-missing' is not defined" in str(info.value)
