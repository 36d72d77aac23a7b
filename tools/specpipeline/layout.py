"""Where the pipeline reads and writes: the repository's specs/ and generated/ folders.

Every function that touches files takes a `RepoLayout`, so tests run the whole pipeline in a temporary
copy of the repository instead of the real one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import attrs

__all__ = ["RepoLayout", "atomic_write_bytes", "default_layout"]


@attrs.frozen
class RepoLayout:
    root: Path

    @property
    def specs_dir(self) -> Path:
        return self.root / "specs"

    @property
    def sources_path(self) -> Path:
        return self.specs_dir / "sources.json"

    @property
    def lock_path(self) -> Path:
        return self.specs_dir / "lock.json"

    @property
    def upstream_dir(self) -> Path:
        return self.specs_dir / "upstream"

    @property
    def patches_dir(self) -> Path:
        return self.specs_dir / "patches"

    @property
    def config_dir(self) -> Path:
        return self.specs_dir / "config"

    @property
    def generated_dir(self) -> Path:
        return self.root / "generated"

    def upstream_path(self, name: str) -> Path:
        return self.upstream_dir / f"{name}.json"

    def patches_path(self, name: str) -> Path:
        return self.patches_dir / f"{name}.json"

    def config_path(self, name: str) -> Path:
        return self.config_dir / f"{name}.yaml"


def default_layout() -> RepoLayout:
    """The checkout these tools live in (tools/specpipeline → repository root), or DATAGOUV_SDK_ROOT."""
    override = os.environ.get("DATAGOUV_SDK_ROOT")
    if override:
        return RepoLayout(Path(override).resolve())
    return RepoLayout(Path(__file__).resolve().parents[2])


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory and os.replace, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        # mkstemp creates 0600; keep the replaced file's mode, else the usual 0644.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
