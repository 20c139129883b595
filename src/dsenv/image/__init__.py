"""Laptop parity: the team's workspace image, its devcontainer, the workflow that builds
the image, and `dsenv eject`. All pure functions of the EnvironmentSpec except `eject`,
which writes through `dsenv.writer.Writer`."""

from __future__ import annotations

from dsenv.image.devcontainer import devcontainer, devcontainer_config, image_reference
from dsenv.image.dockerfile import dockerfile, image_files, requirements_in
from dsenv.image.eject import eject, eject_files
from dsenv.image.workflow import image_workflow, image_workflow_files

__all__ = [
    "devcontainer",
    "devcontainer_config",
    "dockerfile",
    "eject",
    "eject_files",
    "image_files",
    "image_reference",
    "image_workflow",
    "image_workflow_files",
    "requirements_in",
]
