"""`dsenv ci init`: CI workflows rendered from templates/ci/ through the one Writer.

The workflows run in a repository that may hold nothing but profiles, so they install dsenv
from the package index by its distribution name, pinned to the release that generated them
(`dsenv-cli==<version>`). Nothing in them is an example value: the state backend, and for
AWS teams the role and region, are options the user gives (or a UsageError, exit 2), and the
cron schedule is checked. Profiles are grouped by target: AWS teams run with OIDC
credentials; teams on an existing cluster run only when a kubeconfig secret is named.
`write_workflows` takes (template, output path) pairs so further workflows (an image build,
say) join by adding a pair.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsenv.errors import UsageError
from dsenv.live.pulumicli import PINNED_VERSION
from dsenv.templating import render
from dsenv.writer import Writer

PROVIDERS = ("github", "gitlab")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_BACKEND = ("s3://", "https://", "http://", "gs://", "azblob://")
_KUBECONFIG_SECRET = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: POSIX cron fields as GitHub and GitLab schedules read them: (name, low, high, names).
_CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    (
        "month",
        1,
        12,
        (["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]),
    ),
    ("day of week", 0, 6, (["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])),
)


def check_cron(expression: str) -> str:
    """The schedule if it is a five-field cron expression, else a UsageError naming the
    field that is wrong (GitHub would otherwise reject the workflow when it is pushed)."""
    fields = expression.split()
    if len(fields) != 5:
        raise UsageError(
            f"--schedule {expression!r} is not a cron expression: it needs five fields "
            "(minute hour day-of-month month day-of-week), e.g. '17 3 * * *' for 03:17 UTC"
        )
    for text, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for part in text.split(","):
            if not _cron_part_ok(part.upper(), low, high, names):
                raise UsageError(
                    f"--schedule {expression!r}: {name} field {text!r} is not valid "
                    f"(numbers {low}-{high}, *, ranges a-b, steps */n, lists a,b)"
                )
    return expression


def _cron_part_ok(part: str, low: int, high: int, names: Sequence[str]) -> bool:
    base, _, step = part.partition("/")
    if step and not (step.isdigit() and int(step) > 0):
        return False
    if base == "*":
        return True

    def value(word: str) -> int | None:
        if word.isdigit():
            return int(word)
        return names.index(word) + low if word in names else None

    bounds = [value(w) for w in base.split("-")] if base else [None]
    if len(bounds) > 2 or any(v is None or not low <= v <= high for v in bounds):
        return False
    return len(bounds) == 1 or (bounds[0] or 0) <= (bounds[1] or 0)


@dataclass(frozen=True)
class ProfileSet:
    """The team profiles under the profiles folder, by target."""

    aws: list[str] = field(default_factory=list)  # repository-relative paths
    kubernetes: list[str] = field(default_factory=list)
    regions: set[str] = field(default_factory=set)


def profiles_by_target(root: str | os.PathLike[str], profiles_dir: str) -> ProfileSet:
    from dsenv.profile.load import find_profiles, load_profile
    from dsenv.spec.expand import expand_profile

    folder = Path(root) / profiles_dir
    if not folder.is_dir():
        raise UsageError(
            f"no profiles folder {profiles_dir!r} under {root}",
            hint="run `dsenv ci init` at the repository root, or pass --profiles-dir",
        )
    found = ProfileSet()
    for path in find_profiles([folder]):
        loaded = load_profile(path)
        if loaded.kind != "Team":
            continue
        spec = expand_profile(loaded)
        relative = Path(os.path.relpath(path, root)).as_posix()
        if spec.aws is not None:
            found.aws.append(relative)
            found.regions.add(spec.aws.region)
        else:
            found.kubernetes.append(relative)
    if not found.aws and not found.kubernetes:
        raise UsageError(f"no team profiles under {profiles_dir!r}: nothing to check for drift")
    return found


@dataclass(frozen=True)
class DriftWorkflow:
    backend: str
    profiles: ProfileSet
    profiles_dir: str = "profiles"
    schedule: str = "17 3 * * *"  # nightly, off the hour
    shards: int = 4
    concurrency: int = 4
    aws_role_arn: str | None = None
    aws_region: str | None = None
    kubeconfig_secret: str | None = None
    python_version: str = "3.12"
    pulumi_version: str = PINNED_VERSION
    dsenv_requirement: str = ""

    def __post_init__(self) -> None:
        check_cron(self.schedule)
        if self.shards < 1:
            raise UsageError("--shards must be at least 1")
        if not self.backend.startswith(_BACKEND):
            raise UsageError(
                f"--backend {self.backend!r}: the workflow needs a shared state backend",
                hint="s3://BUCKET[/PREFIX] (or gs://, azblob://, https://api.pulumi.com); a "
                "local file backend exists only on the machine that ran `dsenv up`",
            )
        if self.profiles.aws:
            if not self.aws_role_arn:
                raise UsageError(
                    f"--aws-role-arn is required: {len(self.profiles.aws)} AWS team profile(s) "
                    f"({', '.join(self.profiles.aws)}) are checked with OIDC credentials",
                    hint="the ARN of an IAM role your CI's OIDC provider may assume, with read "
                    "access to the state bucket and the teams' resources",
                )
            if not _ROLE_ARN.match(self.aws_role_arn):
                raise UsageError(
                    f"--aws-role-arn {self.aws_role_arn!r} is not an IAM role ARN "
                    "(arn:aws:iam::ACCOUNT:role/NAME)"
                )
            if ":123456789012:" in self.aws_role_arn:
                raise UsageError(
                    "--aws-role-arn names 123456789012, the example account of AWS's "
                    "documentation: give the role of your own account"
                )
            if not self.aws_region or not _REGION.match(self.aws_region):
                raise UsageError(
                    f"--aws-region {self.aws_region!r} is not an AWS region such as eu-west-1"
                )
        if not self.profiles.aws and not self.kubeconfig_secret:
            raise UsageError(
                "every team profile targets an existing cluster: the drift job needs its "
                "kubeconfig, so name the CI secret holding it with --kubeconfig-secret"
            )
        if self.kubeconfig_secret and not _KUBECONFIG_SECRET.match(self.kubeconfig_secret):
            raise UsageError(f"--kubeconfig-secret {self.kubeconfig_secret!r} is not a secret name")

    def context(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "aws_profiles": self.profiles.aws,
            "kubernetes_profiles": self.profiles.kubernetes if self.kubeconfig_secret else [],
            "shard_list": list(range(1, self.shards + 1)),
            "requirement": shlex.quote(self.dsenv_requirement),
            "gh": lambda expression: f"${{{{ {expression} }}}}",
        }


def default_requirement() -> str:
    """What the workflows install: this release of dsenv, by its distribution name."""
    from dsenv import DISTRIBUTION, __version__

    return f"{DISTRIBUTION}=={__version__}"


def default_region(profiles: ProfileSet) -> str | None:
    """The AWS teams' region when they share one."""
    return next(iter(profiles.regions)) if len(profiles.regions) == 1 else None


def drift_workflow(provider: str) -> tuple[str, str]:
    """(template, output path) of the nightly drift workflow for a CI provider."""
    if provider == "github":
        return "ci/github-drift.yml.j2", ".github/workflows/dsenv-drift.yml"
    if provider == "gitlab":
        return "ci/gitlab-drift.yml.j2", ".gitlab/dsenv-drift.yml"
    raise UsageError(f"--provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")


def write_workflows(
    writer: Writer, workflows: Sequence[tuple[str, str]], **context: Any
) -> list[Path]:
    return [writer.write(output, render(template, **context)) for template, output in workflows]
