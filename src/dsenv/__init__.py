"""dsenv: declarative data-science environments as Pulumi programs."""

from typing import Any

#: The name dsenv is distributed under (`pip install dsenv-cli`); the command and the import
#: package are `dsenv`. Generated workflows and ejected projects install this name.
DISTRIBUTION = "dsenv-cli"


def __getattr__(name: str) -> Any:
    # `__version__` is looked up on first use: importlib.metadata costs ~70 ms at start-up,
    # which `dsenv --help` and `dsenv validate` should not pay.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version(DISTRIBUTION)
        except PackageNotFoundError:  # running from a source tree that is not installed
            found = "0.0.0"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module 'dsenv' has no attribute {name!r}")
