"""The small file that lets a chunked upload continue after its process died.

One JSON file per (Main API, dataset, target resource, source file, file name), in
`default_state_dir()` (``$XDG_CACHE_HOME/datagouv-sdk/uploads``, ``~/.cache/...``; Windows:
``%LOCALAPPDATA%``) unless the caller names another folder. It holds what the server was told and
what it acknowledged: the upload's ``uuid``, the part size and count, how many parts (a prefix:
parts go in order) the server acknowledged, the SHA-1 of those bytes, when the last one was
acknowledged, and the source's size and modification time. Never the API key.

- `UploadState`: the record (attrs, mutable: the uploader updates it after each part).
- `StateFile(path)`: `load()` → `UploadState` or None (absent, unreadable, another format version:
  `problem` then says why), `save(state)` (atomic: a temporary file fsynced, then renamed over the
  old one, so a kill at any moment leaves the old state or the new one, never half of one),
  `remove()`.
- `state_file_for(state_dir, key)`: the file of one upload key (a hash of the key: names stay
  short and hold no path).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

import attrs

__all__ = ["STATE_VERSION", "Phase", "StateFile", "UploadState", "default_state_dir", "state_file_for"]

STATE_VERSION = 1
# "parts": parts are being sent; "assembling": the assembling request was sent and its outcome is
# unknown (check the dataset before sending it again); "mismatch": the server assembled a file that
# differs from the source (the next attempt re-uploads into `target`).
Phase = Literal["parts", "assembling", "mismatch"]


@attrs.define
class UploadState:
    key: list[str]  # [main API URL, dataset, resource or "", source path, file name]
    size: int
    mtime_ns: int
    chunk_size: int
    parts: int
    uuid: str
    started_at: float
    parts_done: int = 0  # parts 0 .. parts_done - 1 are on the server
    presumed: list[int] = attrs.Factory(list)  # of those, the ones counted as stored on a refused re-send
    prefix_sha1: str = hashlib.sha1().hexdigest()  # of the bytes of the parts done
    last_ack: float | None = None  # epoch seconds of the last acknowledged part
    phase: Phase = "parts"
    resources_before: list[str] | None = None  # resource ids of the dataset before assembling
    target: str | None = None  # the resource to upload into, when not the key's (after a mismatch)
    version: int = STATE_VERSION

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> UploadState:
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise ValueError(f"not a version {STATE_VERSION} upload state")
        names = {a.name for a in attrs.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def default_state_dir() -> Path:
    """Where upload states live unless told otherwise: the user's cache folder."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "datagouv-sdk" / "uploads"


def state_file_for(state_dir: str | os.PathLike[str] | None, key: list[str]) -> StateFile:
    folder = Path(state_dir) if state_dir is not None else default_state_dir()
    name = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:32]
    return StateFile(folder / f"{name}.json")


class StateFile:
    """One upload's state on disk (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem = ""  # why the last load() found nothing usable

    def load(self) -> UploadState | None:
        self.problem = ""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.problem = f"the upload state {self.path} cannot be read ({exc})"
            return None
        try:
            return UploadState.from_json(json.loads(text))
        except (ValueError, TypeError) as exc:
            self.problem = f"the upload state {self.path} is unusable ({exc})"
            return None

    def save(self, state: UploadState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(state.to_json(), out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
