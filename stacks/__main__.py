"""`pulumi up` at the repository root runs this file (Pulumi.yaml: `main: stacks/`).

The profile comes from stack config: `pulumi config set dsenv:profile profiles/fraud.yaml`
(relative paths are taken from the project directory, where Pulumi.yaml lives). A profile
error ends the run with the profile's own `file:line:col` messages, not a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from dsenv.errors import DsenvError
from dsenv.profile.load import load_team
from dsenv.spec.expand import expand_profile
from dsenv.stacks.program import program


def profile_path(configured: str, project_dir: str | Path) -> Path:
    path = Path(configured).expanduser()
    return path if path.is_absolute() else Path(project_dir) / path


def main() -> None:
    configured = pulumi.Config("dsenv").require("profile")
    path = profile_path(configured, pulumi.get_root_directory())
    try:
        spec = expand_profile(load_team(path))
    except DsenvError as exc:
        # RunError: the engine prints the message alone and marks the update failed
        raise pulumi.RunError(f"dsenv: profile {configured}:\n{exc.render()}") from None
    program(spec)


if __name__ == "__main__":  # the Pulumi language host runs this file as __main__
    main()
