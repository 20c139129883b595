"""Find, check and install the Pulumi CLI, and run it so Ctrl-C stops it cleanly.

The CLI is looked up on PATH, then in dsenv's cache (``$DSENV_HOME/pulumi/<version>``),
then where Pulumi's own installer puts it (``~/.pulumi``). It must be at least
`MIN_VERSION`; `PINNED_VERSION` is what dsenv installs and what generated CI installs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from pulumi.automation import CommandResult, PulumiCommand
from pulumi.automation._cmd import OnOutput
from pulumi.automation.errors import InvalidVersionError, create_command_error
from semver import VersionInfo

from dsenv.errors import OperationalError
from dsenv.live.settings import dsenv_home
from dsenv.spec import versions

MIN_VERSION = VersionInfo.parse(versions.PULUMI_CLI_MIN)
PINNED_VERSION = versions.PULUMI_CLI

_INSTALL_HINT = (
    "install it with `dsenv doctor --install` (needs network), or from a package manager, "
    f"version {PINNED_VERSION} or later, and put it on PATH"
)


class InterruptibleCommand(PulumiCommand):
    """A `PulumiCommand` whose CLI runs in its own process group.

    A terminal's Ctrl-C then reaches dsenv alone, which forwards exactly one SIGINT (the
    engine's "cancel gracefully": it finishes in-flight steps, writes state and releases the
    lock) and keeps waiting; a second Ctrl-C is forwarded too and makes the engine stop at
    once. Without this the CLI would get the terminal's signal *and* lose its inline
    program's server when Python unwinds.
    """

    _lock = threading.Lock()
    _running: set[subprocess.Popen[str]] = set()
    interrupted = False

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: OnOutput | None = None,
        on_error: OnOutput | None = None,
    ) -> CommandResult:
        sep = args.index("--") if "--" in args else len(args)
        if "--non-interactive" not in args[:sep]:
            args.insert(0, "--non-interactive")
        env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
        if Path(self.command).is_absolute():  # bundled plugins sit beside the binary
            env["PATH"] = os.pathsep.join([str(Path(self.command).parent), env.get("PATH", "")])
        out: list[str] = []
        err: list[str] = []

        def pump(stream: object, callback: OnOutput | None, sink: list[str]) -> None:
            for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
                stripped = line.rstrip()
                if callback:
                    callback(stripped)
                sink.append(stripped)

        with subprocess.Popen(
            [self.command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            encoding="utf-8",
            start_new_session=True,
        ) as process:
            with self._lock:
                self._running.add(process)
            try:
                pumps = [
                    threading.Thread(target=pump, args=(process.stdout, on_output, out)),
                    threading.Thread(target=pump, args=(process.stderr, on_error, err)),
                ]
                for t in pumps:
                    t.start()
                for t in pumps:
                    t.join()
                process.wait()
            finally:
                with self._lock:
                    self._running.discard(process)
        code = process.returncode
        result = CommandResult(stdout="\n".join(out), stderr="\n".join(err), code=code)
        if result.code != 0:
            raise create_command_error(result)
        return result

    @classmethod
    def forward_interrupt(cls) -> int:
        """Send SIGINT to every running CLI; returns how many got it."""
        cls.interrupted = True
        with cls._lock:
            running = list(cls._running)
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        return len(running)


@contextmanager
def forwarding_interrupts() -> Iterator[None]:
    """While inside, Ctrl-C is forwarded to the engine instead of unwinding Python; when
    the engine has stopped, KeyboardInterrupt is raised (the CLI exits 130)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    InterruptibleCommand.interrupted = False

    def handler(signum: int, frame: FrameType | None) -> None:
        InterruptibleCommand.forward_interrupt()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if InterruptibleCommand.interrupted:
        raise KeyboardInterrupt


@dataclass(frozen=True)
class CliLocation:
    root: str | None  # None: `pulumi` from PATH; else a folder holding bin/pulumi
    path: str


def candidates(env: Mapping[str, str] | None = None) -> list[CliLocation]:
    """Where a Pulumi CLI may be, in the order dsenv tries them."""
    env = os.environ if env is None else env
    found: list[CliLocation] = []
    on_path = shutil.which("pulumi", path=env.get("PATH"))
    if on_path:
        found.append(CliLocation(None, on_path))
    cache = dsenv_home(env) / "pulumi"
    roots = [cache / PINNED_VERSION]
    if cache.is_dir():
        roots += sorted((p for p in cache.iterdir() if p.name != PINNED_VERSION), reverse=True)
    roots.append(Path.home() / ".pulumi")
    for root in roots:
        binary = root / "bin" / "pulumi"
        if binary.is_file() and os.access(binary, os.X_OK):
            found.append(CliLocation(str(root), str(binary)))
    return found


def find_pulumi(env: Mapping[str, str] | None = None) -> InterruptibleCommand:
    """The first usable CLI, version-checked; OperationalError (exit 3) with the fix if none."""
    problems: list[str] = []
    for location in candidates(env):
        try:
            return InterruptibleCommand(root=location.root, version=MIN_VERSION)
        except InvalidVersionError as exc:
            problems.append(f"{location.path}: {exc}")
        except (OSError, subprocess.CalledProcessError) as exc:
            problems.append(f"{location.path}: does not run ({exc})")
    detail = "; ".join(problems) if problems else "not on PATH and not in dsenv's cache"
    raise OperationalError(f"no usable Pulumi CLI: {detail}", hint=_INSTALL_HINT)


def install_pulumi(env: Mapping[str, str] | None = None) -> InterruptibleCommand:
    """Install `PINNED_VERSION` into dsenv's cache through the Automation API's installer."""
    root = dsenv_home(env) / "pulumi" / PINNED_VERSION
    try:
        PulumiCommand.install(root=str(root), version=VersionInfo.parse(PINNED_VERSION))
        return InterruptibleCommand(root=str(root), version=MIN_VERSION)
    except (OSError, subprocess.CalledProcessError, InvalidVersionError) as exc:
        # URLError is an OSError: offline lands here.
        raise OperationalError(
            f"could not install the Pulumi CLI {PINNED_VERSION} into {root}: {exc}",
            hint="without network, install the CLI by other means and put it on PATH",
        ) from None
