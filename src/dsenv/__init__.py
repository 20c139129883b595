"""dsenv: declarative data-science environments as Pulumi programs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dsenv")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
