"""Where live state, secrets and dsenv's own files live, resolved by one pure function.

Defaults need no account: state in a local file backend under ``$DSENV_HOME/state``
(``~/.dsenv/state`` unless ``DSENV_HOME`` is set) and secrets encrypted with a passphrase.
``--backend`` / ``DSENV_BACKEND`` choose S3 (``s3://bucket/prefix``) or Pulumi Cloud
(``https://...``); ``--secrets-provider`` / ``DSENV_SECRETS_PROVIDER`` choose a KMS key
(``awskms://...``).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dsenv.errors import OperationalError, UsageError

PROJECT = "dsenv"
_BACKEND_SCHEMES = ("file://", "s3://", "https://", "http://", "gs://", "azblob://")
_SECRETS_SCHEMES = ("awskms://", "gcpkms://", "azurekeyvault://", "hashivault://")


def dsenv_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("DSENV_HOME") or Path.home() / ".dsenv")


@dataclass(frozen=True)
class LiveSettings:
    backend_url: str
    secrets_provider: str | None  # None: the backend's default (Pulumi Cloud's own service)
    home: Path
    #: Environment passed to every Pulumi CLI call; may hold the passphrase, so never print it.
    env: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def is_file_backend(self) -> bool:
        return self.backend_url.startswith("file://")

    @property
    def state_dir(self) -> Path | None:
        """The folder of a file backend (where `.pulumi/` lives), else None."""
        if not self.is_file_backend:
            return None
        return Path(self.backend_url.removeprefix("file://")).expanduser()

    @property
    def snapshot_dir(self) -> Path:
        return self.home / "snapshots"

    def work_dir(self, stack: str) -> Path:
        """One persistent workspace per stack: keeps Pulumi.<stack>.yaml (and its
        passphrase salt) between runs."""
        return self.home / "work" / stack

    def describe(self) -> str:
        secrets = self.secrets_provider or "backend default"
        return f"backend {self.backend_url}, secrets {secrets}"

    def ensure_state_dir(self) -> None:
        """Create the file backend's folder on first use: the CLI's file backend refuses a
        missing one (`unable to open state directory "file://...": stat ...: no such file or
        directory`, pulumi/pulumi pkg/backend/diy/backend.go `newDIYBackend`)."""
        state = self.state_dir
        if state is None or state.is_dir():
            return
        try:
            state.mkdir(parents=True, mode=0o700)
        except OSError as exc:
            raise OperationalError(
                f"cannot create the state folder {state}: {exc.strerror or exc}",
                hint="choose a writable place with --backend file://PATH or DSENV_BACKEND",
            ) from None

    def stack_ref(self, stack: str) -> str:
        """The stack's name as the CLI resolves it from any folder: a file or bucket backend
        knows it as `organization/<project>/<stack>` (pkg/backend/diy/backend.go
        `FullyQualifiedName`); Pulumi Cloud resolves a bare name in the project of the
        current folder, so hints for it add `--cwd` (the stack's work folder)."""
        if self.backend_url.startswith(("https://", "http://")):
            return stack
        return f"organization/{PROJECT}/{stack}"

    def cli_hint(self, stack: str, *args: str) -> str:
        """A `pulumi` command line that works as printed in the user's shell: the backend URL
        and the stack's full name, no current project needed."""
        words = ["pulumi", *args]
        if self.backend_url.startswith(("https://", "http://")):
            words += ["--cwd", str(self.work_dir(stack))]
        words += ["--stack", self.stack_ref(stack)]
        return f"PULUMI_BACKEND_URL={shlex.quote(self.backend_url)} " + shlex.join(words)


def resolve_settings(
    backend: str | None = None,
    secrets_provider: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    prompt: Callable[[str], str] | None = None,
) -> LiveSettings:
    """Option beats environment beats default. `prompt` (a terminal only) asks for the
    passphrase when the passphrase provider is in use and the environment has none."""
    env = dict(os.environ if env is None else env)
    home = dsenv_home(env)
    url = backend or env.get("DSENV_BACKEND") or f"file://{home / 'state'}"
    if url.startswith("~") or url.startswith("/"):
        url = f"file://{url}"
    if not url.startswith(_BACKEND_SCHEMES):
        raise UsageError(
            f"unsupported state backend {url!r}",
            hint="use file://PATH, s3://BUCKET[/PREFIX] or https://api.pulumi.com",
        )
    if url.startswith("file://"):
        url = "file://" + str(Path(url.removeprefix("file://")).expanduser())
    cloud = url.startswith(("https://", "http://"))
    default_provider = None if cloud else "passphrase"
    provider = secrets_provider or env.get("DSENV_SECRETS_PROVIDER") or default_provider
    known = provider in (None, "passphrase", "default")
    if not known and not str(provider).startswith(_SECRETS_SCHEMES):
        raise UsageError(
            f"unsupported secrets provider {provider!r}",
            hint="use passphrase, or a key such as awskms://alias/dsenv?region=eu-west-1",
        )
    extra = {"PULUMI_BACKEND_URL": url, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    if provider == "passphrase" and not (
        "PULUMI_CONFIG_PASSPHRASE" in env or "PULUMI_CONFIG_PASSPHRASE_FILE" in env
    ):
        if prompt is None:
            raise OperationalError(
                "no passphrase for the stack's secrets",
                hint="set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, "
                "or use --secrets-provider awskms://... (on a terminal dsenv asks for it)",
            )
        extra["PULUMI_CONFIG_PASSPHRASE"] = prompt("Passphrase for the stack's secrets")
    return LiveSettings(backend_url=url, secrets_provider=provider, home=home, env=extra)
