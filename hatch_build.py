"""Puts the built web app and widget (parlour/static/) in the wheel, building them first
with npm when they are absent: a clean clone with Node gets them built, and a checkout
where `make setup` built them makes a wheel on a machine without Node.

We compared hatch-jupyter-builder's npm_builder, which does the same (skip-if-exists,
ensured-targets): it runs one npm project per hook, and we have two (web/ and
web/widget/), so it would need two configurations and one more build dependency for what
is a few lines here.

PARLOUR_BUILD_WEB=1 rebuilds them even when present (a release from a checkout whose
bundle may be older than its sources).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# npm project → what its build writes (each with its .gz twin, written by the same build).
PROJECTS = {
    "web": "parlour/static/app/index.html",
    "web/widget": "parlour/static/widget/widget.js",
}


class WebBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        # An editable install serves parlour/static/ from the checkout itself.
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        force = os.environ.get("PARLOUR_BUILD_WEB", "") not in ("", "0")
        for project, output in PROJECTS.items():
            built = root / output
            if built.is_file() and built.with_name(built.name + ".gz").is_file() and not force:
                continue
            self._npm_build(root / project, built)

    def _npm_build(self, project: Path, built: Path) -> None:
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                f"{built} is not built and npm is missing: install Node 20+ (or build "
                "the web app where Node is, `make setup`, and build the wheel from there)"
            )
        self.app.display_info(f"building {project.name} with npm (into {built.parent})")
        if not (project / "node_modules").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=project, check=True)
        subprocess.run([npm, "run", "build"], cwd=project, check=True)
        if not built.is_file():
            raise RuntimeError(f"`npm run build` in {project} did not write {built}")
