"""A stand-in for the `pulumi` CLI, for dsenv's tests of the live engine.

The tests drive the real `pulumi.automation` SDK; this script answers it where the real CLI
would, and does what the real CLI does wherever dsenv depends on the behaviour. Each
behaviour names the pulumi/pulumi source it follows (tests/live/README.md has the list; the
end-to-end tests run the same flows against the real CLI):

- `version` reports 3.274.0, the CLI dsenv pins; the SDK then takes engine events over gRPC
  (`--event-log tcp://...`, an `Events.StreamEvents` client stream of JSON events:
  proto/pulumi/events.proto, sdk/python/lib/pulumi/automation/_stack.py `_setup_event_log`);
  before 3.206 it writes them to a file, which the stand-in also does for an older version;
- the file backend: a missing folder is refused (pkg/backend/diy/backend.go
  `newDIYBackend`); stacks live in `.pulumi/stacks/<project>/<stack>.json` as a checkpoint
  (`checkpoint.latest` is the deployment), locks in
  `.pulumi/locks/organization/<project>/<stack>/<id>.json` (pkg/backend/diy/lock.go);
- locking (pkg/backend/diy/backend.go): `up`, `refresh`, `destroy` (also with
  `--preview-only`), `stack init` and `stack import` take the lock; `preview` and
  `refresh --preview-only` do not; a held lock fails with lock.go's `checkForLock` text;
- steps and events (pkg/resource/deploy/step_generator.go, pkg/engine/deployment.go): a
  replacement is `create-replacement` then `replace`, and `delete-replaced` after every
  create and update (delete-before-replace: `delete-replaced`, `replace`,
  `create-replacement`); a preview sends a pre and an outputs event per step; a refresh step's
  pre event says `refresh` and its outputs event the result (`same`, `update`, `delete`:
  pkg/resource/deploy/step.go `RefreshStep.ResultOp`), which the summary counts;
- `--expect-no-changes` (pkg/backend/backenderr/backenderr.go `NoChangesExpectedError`):
  from 3.226 "no changes were expected for preview but changes were proposed" and exit code 7;
  older versions "no changes were expected but changes were proposed", exit 255;
- SIGINT (pkg/backend/cancellation_scope.go): the engine sends the stdout event
  "^C received; cancelling. ...", finishes, reports "update canceled", saves the state,
  releases the lock and exits 1;
- `stack export` keeps secrets encrypted unless `--show-secrets`
  (pkg/resource/stack/deployment.go); `stack import` drops pending operations with a warning
  per operation (pkg/cmd/pulumi/stack/stack.go `SaveSnapshot`);
- plugins (sdk/go/common/workspace/plugins.go): a `pulumi-resource-<name>` on PATH is used
  whatever its version unless PULUMI_IGNORE_AMBIENT_PLUGINS is set; otherwise
  `$PULUMI_HOME/plugins/resource-<name>-v<version>`; a missing one is downloaded (this
  machine has no network: the download fails as the real one does) unless
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION is set, then it is an error;
  `plugin install ... --file PATH` installs from a file, `plugin ls --json` lists the cache.

It does not run the inline program (that needs the engine's resource monitor): the
resources the program "declares" come from a scenario file,
`$DSENV_STANDIN_SCENARIO/<stack>.json`:
{"desired": [{"urn", "type", "parent", "inputs", "outputs", "secrets", "protect", "custom",
              "replace_on": [property paths], "delete_before_replace"}],
 "cloud": {urn: {props} | null}, "latency": seconds, "hang": bool, "cancel_output": text,
 "fail": {"op": "up", "times": N, "stderr": "..."}, "stack_outputs": {...}}.
"""

from __future__ import annotations

import base64
import datetime
import getpass
import json
import os
import queue
import shutil
import signal
import socket
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

VERSION = os.environ.get("DSENV_STANDIN_VERSION", "3.274.0")
PROJECT = "dsenv"
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
INTERRUPTED = False
LOG: Any = None


def version_tuple() -> tuple[int, ...]:
    return tuple(int(x) for x in VERSION.split(".")[:3])


def _sigint(signum: int, frame: object) -> None:
    global INTERRUPTED  # noqa: PLW0603 - a signal handler's only way out
    INTERRUPTED = True


signal.signal(signal.SIGINT, _sigint)


def fail(message: str, code: int = 1) -> None:
    if LOG is not None:
        LOG.close()
    sys.stderr.write(message.rstrip() + "\n")
    sys.exit(code)


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def option(args: list[str], name: str, default: Any = None) -> Any:
    values = [args[i + 1] for i, a in enumerate(args[:-1]) if a == name]
    values += [a.split("=", 1)[1] for a in args if a.startswith(name + "=")]
    if default == []:
        return values
    return values[-1] if values else default


def stack_name(args: list[str]) -> str:
    """`--stack NAME` or `--stack organization/<project>/NAME` (diy FullyQualifiedName)."""
    value = option(args, "--stack") or ""
    return str(value).rsplit("/", 1)[-1]


# -- the file backend -------------------------------------------------------------------


def backend_dir() -> Path:
    url = os.environ.get("PULUMI_BACKEND_URL", "")
    if not url.startswith("file://"):
        fail(f"error: the stand-in only replays file backends, not {url!r}")
    path = Path(url[len("file://") :])
    if not path.is_dir():
        fail(
            f'error: unable to open state directory "{url}": stat {path}: no such file or directory'
        )
    meta = path / ".pulumi" / "meta.yaml"
    if not meta.exists():
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text("version: 1\n")
    return path


def state_path(stack: str) -> Path:
    return backend_dir() / ".pulumi" / "stacks" / PROJECT / f"{stack}.json"


def lock_dir(stack: str) -> Path:
    return backend_dir() / ".pulumi" / "locks" / "organization" / PROJECT / stack


def load(stack: str) -> dict[str, Any]:
    path = state_path(stack)
    if not path.exists():
        fail(f"error: no stack named '{stack}' found")
    checkpoint = json.loads(path.read_text())
    return dict(checkpoint["checkpoint"]["latest"])


def save(stack: str, deployment: dict[str, Any]) -> None:
    path = state_path(stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "version": 3,
        "checkpoint": {"stack": f"organization/{PROJECT}/{stack}", "latest": deployment},
    }
    path.write_text(json.dumps(checkpoint, indent=4))


def scenario(stack: str) -> dict[str, Any]:
    folder = os.environ.get("DSENV_STANDIN_SCENARIO")
    path = Path(folder) / f"{stack}.json" if folder else None
    if path and path.exists():
        return dict(json.loads(path.read_text()))
    return {}


def acquire(stack: str) -> Path:
    folder = lock_dir(stack)
    held = sorted(folder.glob("*.json")) if folder.exists() else []
    if held:
        url = os.environ["PULUMI_BACKEND_URL"]
        lines = []
        for path in held:
            lock = json.loads(path.read_text())
            where = url + "/" + str(path.relative_to(backend_dir()))
            lines.append(
                f"\n  {where}: created by {lock['username']}@{lock['hostname']} "
                f"(pid {lock['pid']}) at {lock['timestamp']}"
            )
        fail(
            f"error: the stack is currently locked by {len(held)} lock(s). Either wait for the "
            "other process(es) to end or delete the lock file with `pulumi cancel`."
            + "".join(lines)
        )
    folder.mkdir(parents=True, exist_ok=True)
    mine = folder / f"{uuid.uuid4()}.json"
    content = {
        "pid": os.getpid(),
        "username": getpass.getuser(),
        "hostname": socket.gethostname(),
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    mine.write_text(json.dumps(content))
    return mine


def release(stack: str) -> None:
    folder = lock_dir(stack)
    for path in folder.glob("*.json") if folder.exists() else []:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


# -- secrets ----------------------------------------------------------------------------


def encrypt(value: Any) -> dict[str, str]:
    text = json.dumps(value)[::-1].encode()
    return {SIG: SECRET_SIG, "ciphertext": "v1:" + base64.b64encode(text).decode()}


def reveal(value: Any) -> Any:
    """`--show-secrets`: every ciphertext as plaintext (the JSON text of the value)."""
    if isinstance(value, dict):
        if value.get(SIG) == SECRET_SIG and "ciphertext" in value:
            plain = base64.b64decode(value["ciphertext"][3:]).decode()[::-1]
            return {SIG: SECRET_SIG, "plaintext": plain}
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


# -- events -----------------------------------------------------------------------------


def _event_request(event: str) -> bytes:
    """An `EventRequest` on the wire: field 1 (length-delimited) holding the JSON event."""
    data = event.encode("utf-8")
    size, length = len(data), bytearray()
    while True:
        byte, size = size & 0x7F, size >> 7
        length.append(byte | (0x80 if size else 0))
        if not size:
            break
    return b"\x0a" + bytes(length) + data


class Log:
    """Engine events to `--event-log`: a gRPC stream for a `tcp://` address, else a file."""

    def __init__(self, target: str | None) -> None:
        self.seq = 0
        self.path: str | None = None
        self.queue: queue.Queue[Any] | None = None
        self.thread: threading.Thread | None = None
        if target and target.startswith("tcp://"):
            import grpc

            # `pulumirpc.Events/StreamEvents` (proto/pulumi/events.proto): a client stream of
            # `EventRequest {string event = 1}`, encoded here by hand (tag 0x0a, varint length,
            # UTF-8 bytes) because importing the generated modules, and with them the `pulumi`
            # package, costs 0.3 s of CPU per CLI call, which the real (Go) CLI does not pay
            channel = grpc.insecure_channel(target[len("tcp://") :])
            stream = channel.stream_unary(
                "/pulumirpc.Events/StreamEvents",
                request_serializer=_event_request,
                response_deserializer=lambda data: data,
            )
            self.queue = queue.Queue()
            q = self.queue
            self.thread = threading.Thread(target=lambda: stream(iter(q.get, None)))
            self.thread.start()
        else:
            self.path = target

    def emit(self, **event: Any) -> None:
        self.seq += 1
        event = {"sequence": self.seq, "timestamp": int(time.time()), **event}
        if self.queue is not None:
            self.queue.put(json.dumps(event))
        elif self.path:
            with Path(self.path).open("a", encoding="utf-8") as f:
                f.write(json.dumps(event) + "\n")

    def close(self) -> None:
        if self.queue is not None and self.thread is not None:
            self.queue.put(None)
            self.thread.join(timeout=10)
            self.queue = None


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
        return out or {prefix: {}}
    return {prefix: value}


def diff_paths(old: Any, new: Any) -> list[str]:
    a, b = flatten(old or {}), flatten(new or {})
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def step_meta(
    op: str, res: dict[str, Any], paths: list[str] = (), keys: list[str] = ()
) -> dict[str, Any]:  # type: ignore[assignment]
    kind = "update-replace" if keys else "update"
    return {
        "op": op,
        "urn": res["urn"],
        "type": res["type"],
        "provider": "",
        "keys": list(keys),
        "diffs": sorted({p.split(".")[0] for p in paths}),
        "detailedDiff": {p: {"diffKind": kind, "inputDiff": True} for p in paths},
    }


CANCEL_MESSAGE = (
    "^C received; cancelling. If you would like to terminate immediately, press ^C again.\n"
)
CANCEL_NOTE = (
    "Note that terminating immediately may lead to orphaned resources and other inconsistencies.\n"
)


def cancelled(stack: str, preview: bool, locked: bool, scen: dict[str, Any], kind: str) -> None:
    message = CANCEL_MESSAGE + ("" if preview else CANCEL_NOTE)
    LOG.emit(stdoutEvent={"message": message, "color": "never"})
    LOG.emit(
        diagnosticEvent={
            "severity": "error",
            "message": "update canceled\n",
            "prefix": "error: ",
            "color": "never",
            "urn": "",
        }
    )
    LOG.emit(
        summaryEvent={
            "maybeCorrupt": False,
            "durationSeconds": 0,
            "resourceChanges": {},
            "PolicyPacks": {},
        }
    )
    LOG.emit(cancelEvent={})
    LOG.close()
    if not preview:  # the diy backend records failed updates too (backend.go `apply`)
        history_entry(stack, kind, {}, "failed")
    if locked:
        release(stack)
    print(
        message
        + "\nDiagnostics:\n    error: update canceled\n"
        + str(scen.get("cancel_output", ""))
    )
    sys.exit(1)


def wait(
    seconds: float, stack: str, preview: bool, locked: bool, scen: dict[str, Any], kind: str
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if INTERRUPTED:
            cancelled(stack, preview, locked, scen, kind)
        time.sleep(min(0.02, max(deadline - time.monotonic(), 0)))


def injected_failure(stack: str, op: str, scen: dict[str, Any], locked: bool) -> None:
    spec = scen.get("fail")
    if not spec or spec.get("op") != op:
        return
    counter = backend_dir() / f".standin-failures-{stack}-{op}"
    count = int(counter.read_text()) if counter.exists() else 0
    if count < spec.get("times", 1):
        counter.write_text(str(count + 1))
        if locked:
            release(stack)
        fail(spec.get("stderr", "error: 503 Service Unavailable"))


# -- plugins ----------------------------------------------------------------------------


def pulumi_home() -> Path:
    return Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")


def plugin_dir(name: str, version: str) -> Path:
    return pulumi_home() / "plugins" / f"resource-{name}-v{version}"


def sdk_version(name: str) -> str:
    """The version the SDK asks the engine for: the `version` of its pulumi-plugin.json."""
    from importlib import resources

    package = {"kubernetes": "pulumi_kubernetes", "aws": "pulumi_aws"}[name]
    return str(
        json.loads(resources.files(package).joinpath("pulumi-plugin.json").read_text())["version"]
    )


def install_plugin(name: str, version: str, file: str | None = None) -> None:
    target = plugin_dir(name, version)
    if file:
        source = Path(file)
        if not source.exists():
            fail(
                f"error: [resource plugin {name}-{version}] installing from {file}: no such file or directory"
            )
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target / f"pulumi-resource-{name}")
        return
    if target.is_dir():
        return
    fail(
        f"error: [resource plugin {name}-{version}] downloading from : failed to download plugin: "
        f"{name}-{version}: failed all 5 attempts"
    )


def ensure_plugins(resources: list[dict[str, Any]]) -> None:
    """What the engine does for each provider the program registers resources with."""
    names = sorted({r["type"].split(":")[0] for r in resources} & {"kubernetes", "aws"})
    for name in names:
        version = sdk_version(name)
        if "PULUMI_IGNORE_AMBIENT_PLUGINS" not in os.environ and shutil.which(
            f"pulumi-resource-{name}"
        ):
            continue
        if plugin_dir(name, version).is_dir():
            continue
        if os.environ.get("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"):
            fail(
                f"error: no resource plugin '{name}-v{version}' found in the workspace or on your "
                f"$PATH, install the plugin using `pulumi plugin install resource {name} v{version}`"
            )
        install_plugin(name, version)


# -- operations -------------------------------------------------------------------------


def replacement_keys(res: dict[str, Any], paths: list[str]) -> list[str]:
    triggers = res.get("replace_on") or []
    return sorted(
        {p.split(".")[0] for p in paths if any(p == t or p.startswith(t + ".") for t in triggers)}
    )


def plan(
    state: dict[str, Any], scen: dict[str, Any], targets: set[str], destroy: bool
) -> list[tuple[str, dict[str, Any], list[str], list[str]]]:
    """(op, resource, changed paths, replace keys) in the order the engine runs the steps."""
    current = {r["urn"]: r for r in state.get("resources", [])}
    desired = [] if destroy else scen.get("desired", [])
    steps: list[tuple[str, dict[str, Any], list[str], list[str]]] = []
    replaced_later: list[tuple[str, dict[str, Any], list[str], list[str]]] = []
    seen = set()
    for res in desired:
        seen.add(res["urn"])
        if targets and res["urn"] not in targets:
            continue
        old = current.get(res["urn"])
        if old is None:
            steps.append(("create", res, [], []))
            continue
        paths = diff_paths(old.get("inputs"), res.get("inputs"))
        keys = replacement_keys(res, paths)
        if keys and res.get("delete_before_replace"):
            steps += [
                ("delete-replaced", old, paths, keys),
                ("replace", res, paths, keys),
                ("create-replacement", res, paths, keys),
            ]
        elif keys:
            steps += [("create-replacement", res, paths, keys), ("replace", res, paths, keys)]
            replaced_later.append(("delete-replaced", old, paths, keys))
        else:
            steps.append(("update" if paths else "same", res, paths, []))
    deletes = [
        ("delete", old, [], [])
        for urn, old in current.items()
        if urn not in seen
        and (not targets or urn in targets)
        and old["type"] != "pulumi:pulumi:Stack"
    ]
    return steps + replaced_later + deletes


def stored(res: dict[str, Any]) -> dict[str, Any]:
    outputs = {**res.get("inputs", {}), **res.get("outputs", {})}
    outputs.update({k: encrypt(v) for k, v in (res.get("secrets") or {}).items()})
    return {
        "urn": res["urn"],
        "custom": res.get("custom", True),
        "type": res["type"],
        "parent": res.get("parent") or "",
        "protect": bool(res.get("protect")),
        "inputs": res.get("inputs", {}),
        "outputs": outputs,
    }


def history_entry(
    stack: str, kind: str, changes: dict[str, int], result: str = "succeeded"
) -> None:
    path = backend_dir() / ".pulumi" / "history" / PROJECT / f"{stack}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = json.loads(path.read_text()) if path.exists() else []
    entries.insert(
        0,
        {
            "kind": kind,
            "startTime": now(),
            "endTime": now(),
            "message": "",
            "environment": {},
            "config": {},
            "result": result,
            "version": len(entries) + 1,
            "resourceChanges": changes,
        },
    )
    path.write_text(json.dumps(entries))


def operate(cmd: str, args: list[str]) -> None:
    global LOG  # noqa: PLW0603 - fail() closes the stream from anywhere
    stack = stack_name(args)
    preview = cmd == "preview" or "--preview-only" in args
    state = load(stack)
    scen = scenario(stack)
    LOG = Log(option(args, "--event-log"))
    # pkg/backend/diy/backend.go: Preview and Refresh(--preview-only) take no lock
    locked = not (cmd == "preview" or (cmd == "refresh" and preview))
    if locked:
        acquire(stack)
    ensure_plugins([*scen.get("desired", []), *state.get("resources", [])])
    LOG.emit(preludeEvent={"config": {}})
    pending = state.get("pending_operations") or []
    if pending and cmd in ("up", "preview"):
        listed = "".join(
            f"  * {p['resource']['urn']}, interrupted while {p['type']}\n" for p in pending
        )
        LOG.emit(
            diagnosticEvent={
                "severity": "warning",
                "color": "never",
                "urn": "",
                "message": f"Attempting to deploy or update resources with {len(pending)} pending operations "
                f"from previous deployment.\n{listed}These resources are in an unknown state because "
                "the Pulumi CLI was interrupted while waiting for changes to these resources to complete.",
            }
        )
    injected_failure(stack, cmd, scen, locked)
    kind = "update" if cmd == "up" else cmd
    wait(float(scen.get("latency", 0)), stack, preview, locked, scen, kind)
    while scen.get("hang") and not preview:
        wait(0.05, stack, preview, locked, scen, kind)

    counts: dict[str, int] = {}
    resources = {r["urn"]: r for r in state.get("resources", [])}
    if cmd == "refresh":
        cloud = scen.get("cloud", {})
        for res in state.get("resources", []):
            if res["urn"] in cloud and cloud[res["urn"]] is None:
                result, paths = "delete", []
            elif res["urn"] in cloud:
                paths = diff_paths(res.get("outputs"), cloud[res["urn"]])
                result = "update" if paths else "same"
            else:
                result, paths = "same", []
            counts[result] = counts.get(result, 0) + 1
            LOG.emit(resourcePreEvent={"metadata": step_meta("refresh", res), "planning": preview})
            LOG.emit(
                resOutputsEvent={"metadata": step_meta(result, res, paths), "planning": preview}
            )
            if not preview and result == "delete":
                resources.pop(res["urn"], None)
            elif not preview and result == "update":
                resources[res["urn"]]["outputs"] = cloud[res["urn"]]
        changed = any(k != "same" for k in counts)
    else:
        steps = plan(state, scen, set(option(args, "--target", [])), destroy=cmd == "destroy")
        if cmd == "destroy" and "--exclude-protected" in args:
            steps = [s for s in steps if not s[1].get("protect")]
        if cmd == "destroy":
            for _, res, _, _ in steps:
                if res.get("protect"):
                    release(stack)
                    fail(
                        f"error: resource {res['urn']} cannot be deleted\nbecause it is protected. "
                        "To unprotect the resource, either remove the `protect` flag from the "
                        "resource in your Pulumi program and run `pulumi up`, or use the command:\n"
                        f"`pulumi state unprotect '{res['urn']}'`"
                    )
        for op, res, paths, keys in steps:
            if op not in ("create-replacement", "delete-replaced"):  # Logical() steps only
                counts[op] = counts.get(op, 0) + 1
            LOG.emit(
                resourcePreEvent={"metadata": step_meta(op, res, paths, keys), "planning": preview}
            )
            LOG.emit(
                resOutputsEvent={"metadata": step_meta(op, res, paths, keys), "planning": preview}
            )
            if preview:
                continue
            if op == "delete":
                resources.pop(res["urn"], None)
            elif op in ("create", "update", "create-replacement"):
                resources[res["urn"]] = stored(res)
        changed = any(k != "same" for k in counts)
    LOG.emit(
        summaryEvent={
            "maybeCorrupt": False,
            "durationSeconds": 0,
            "resourceChanges": counts,
            "PolicyPacks": {},
        }
    )
    if not preview:
        state["resources"] = list(resources.values())
        if cmd == "refresh":
            keep_creates = "--clear-pending-creates" not in args
            state["pending_operations"] = [
                p for p in pending if keep_creates and p["type"] == "creating"
            ]
        if cmd == "up":
            state["outputs"] = scen.get("stack_outputs", {})
        save(stack, state)
        history_entry(stack, cmd if cmd != "up" else "update", counts)
    LOG.emit(cancelEvent={})
    LOG.close()
    if locked:
        release(stack)
    print(f"{'Previewing' if preview else 'Updating'} ({stack}): {sum(counts.values())} resources")
    if "--expect-no-changes" in args and changed:
        if version_tuple() >= (3, 226, 0):
            fail("error: no changes were expected for preview but changes were proposed", 7)
        fail("error: no changes were expected but changes were proposed", 255)


def stack_command(sub: str, rest: list[str]) -> None:
    stack = stack_name(rest)
    if sub == "select":
        load(stack)
    elif sub == "init":
        name = rest[0].rsplit("/", 1)[-1]
        if state_path(name).exists():
            fail(f"error: stack '{name}' already exists")
        acquire(name)
        deployment = {
            "manifest": {"time": now(), "magic": "", "version": f"v{VERSION}"},
            "secrets_providers": {
                "type": option(rest, "--secrets-provider", "passphrase"),
                "state": {"salt": "v1:standin"},
            },
            "resources": [],
        }
        save(name, deployment)
        release(name)
        sys.stderr.write(f"Created stack '{name}'\n")
    elif sub == "export":
        deployment = load(stack)
        if "--show-secrets" in rest:
            deployment = reveal(deployment)
        print(json.dumps({"version": 3, "deployment": deployment}, indent=4))
    elif sub == "import":
        imported = json.loads(Path(option(rest, "--file")).read_text())
        load(stack)
        acquire(stack)
        deployment = dict(imported["deployment"])
        for op in deployment.pop("pending_operations", None) or []:
            sys.stderr.write(
                f"warning: removing pending operation '{op['type']}' on "
                f"'{op['resource']['urn']}' from snapshot\n"
            )
        save(stack, deployment)
        release(stack)
        print("Import complete.")
    elif sub == "output":
        outputs = load(stack).get("outputs", {})
        shown = {}
        for k, v in outputs.items():
            secret = isinstance(v, dict) and "secret" in v
            if secret and "--show-secrets" not in rest:
                shown[k] = "[secret]"
            else:
                shown[k] = v["value"] if secret else v
        print(json.dumps(shown))
    elif sub == "history":
        load(stack)
        path = backend_dir() / ".pulumi" / "history" / PROJECT / f"{stack}.json"
        entries = json.loads(path.read_text()) if path.exists() else []
        print(json.dumps(entries[: int(option(rest, "--page-size", "1000"))]))
    else:
        fail(f"error: unknown command 'stack {sub}' in the stand-in")


def plugin_command(sub: str, rest: list[str]) -> None:
    if sub == "ls":
        found = []
        folder = pulumi_home() / "plugins"
        for path in sorted(folder.glob("resource-*-v*")) if folder.is_dir() else []:
            if path.is_dir() and not Path(f"{path}.partial").exists():
                name, _, version = path.name[len("resource-") :].rpartition("-v")
                found.append({"name": name, "kind": "resource", "version": version, "size": 0})
        print(json.dumps(found))
    elif sub == "install":
        words = [w for w in rest if not w.startswith("-")]
        file = option(rest, "--file")
        if file in words:
            words.remove(file)
        kind, name, version = ([*words, "", "", ""])[:3]
        if kind != "resource" or not name or not version:
            fail("error: the stand-in installs `resource NAME VERSION` plugins only")
        sys.stderr.write(f"[resource plugin {name}-{version}] installing\n")
        install_plugin(name, version.lstrip("v"), file)
    else:
        fail(f"error: unknown command 'plugin {sub}' in the stand-in")


def main(argv: list[str]) -> None:
    args = [a for a in argv if a != "--non-interactive"]
    calls = os.environ.get("DSENV_STANDIN_CALLS")
    if calls:  # for the tests: which commands ran, in order
        with Path(calls).open("a", encoding="utf-8") as f:
            f.write(json.dumps(args) + "\n")
    if not args:
        fail("usage: pulumi COMMAND")
    cmd, rest = args[0], args[1:]
    if cmd == "version":
        print(f"v{VERSION}")
    elif cmd == "whoami":
        print(getpass.getuser())
    elif cmd == "about":
        print(
            json.dumps(
                {"cliVersion": VERSION, "backend": {"url": os.environ.get("PULUMI_BACKEND_URL")}}
            )
        )
    elif cmd == "config":
        pass  # set-all / refresh: nothing to remember for dsenv's tests
    elif cmd == "cancel":
        stack = stack_name(rest)
        for path in lock_dir(stack).glob("*.json"):
            path.unlink()
        print(f"The currently running update for '{stack}' has been canceled!")
    elif cmd == "stack":
        stack_command(rest[0], rest[1:])
    elif cmd == "plugin":
        plugin_command(rest[0], rest[1:])
    elif cmd in ("preview", "up", "refresh", "destroy"):
        operate(cmd, rest)
    else:
        fail(f"error: unknown command {cmd!r} in the stand-in")


if __name__ == "__main__":
    main(sys.argv[1:])
