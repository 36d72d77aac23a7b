"""A typed client package for a discovered API, made by the same generator as the SDK's own packages,
from a third party's document as it really is:

1. repaired (codegen.repair: data-driven fix-ups, each with its reason, every change recorded);
2. diagnosed (codegen.diagnose: the generator's own parser run in-process; what it cannot generate
   is removed and named with the reason);
3. generated (openapi-python-client, pinned, without --fail-on-warning: the warnings are step 2's);
4. imported, every module, in a subprocess bounded in time: an operation whose code does not import
   is removed and the package generated again; a package that still does not import is never handed
   over.

The result says what was generated, skipped (and why) and repaired. A document of which no
operation can be generated is a ClientGenerationError naming the causes.
"""

from __future__ import annotations

import json
import keyword
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from datagouv_sdk.discovery.documents import OpenAPIDocument
from datagouv_sdk.discovery.errors import ClientGenerationError
from datagouv_sdk.errors import UsageError

if TYPE_CHECKING:  # the codegen modules are imported when generating (the `codegen` extra)
    from datagouv_sdk.codegen.diagnose import Skipped
    from datagouv_sdk.codegen.repair import Repair

__all__ = ["GeneratedClient", "generate_package", "package_name_for"]

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
IMPORT_TIMEOUT = 120.0  # seconds to import every module of a generated package
_ATTEMPTS = 3


@attrs.frozen
class GeneratedClient:
    """A generated package, and what it took: repairs made, operations and schemas left out."""

    package: str
    path: Path  # the package's folder (output_dir/package)
    operations: int  # endpoint functions generated
    skipped: tuple[Skipped, ...] = ()  # operations and schemas left out: what, reason
    repairs: tuple[Repair, ...] = ()  # fix-ups made: family, where (JSON pointer), change
    notes: tuple[str, ...] = ()  # generated, but partly (a response left untyped...)
    seconds: float = 0.0

    def repair_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for repair in self.repairs:
            counts[repair.family] = counts.get(repair.family, 0) + 1
        return counts

    def summary(self) -> str:
        """What `dgv dataservices generate` prints: counts, every skipped item with its reason, and
        each repair family with its reason."""
        from datagouv_sdk.codegen.repair import REASONS

        lines = [
            f"{self.package}: {self.operations} operations generated, {len(self.skipped)} skipped, "
            f"{len(self.repairs)} repairs, in {self.seconds:.1f} s ({self.path})"
        ]
        lines += [f"  skipped {item.what}: {item.reason}" for item in self.skipped]
        for family, count in sorted(self.repair_counts().items()):
            lines.append(f"  repaired {family} ({count}): {REASONS.get(family, '')}")
        return "\n".join(lines)


def package_name_for(title: str) -> str:
    """A Python package name from a dataservice's slug or title: "API Adresse (BAN)" → "api_adresse_ban"."""
    name = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_") or "dataservice"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = "api_" + name
    return name[:60].rstrip("_")


def generate_package(
    document: OpenAPIDocument,
    output_dir: Path,
    *,
    package: str,
    base_url: str | None = None,
    import_timeout: float = IMPORT_TIMEOUT,
) -> GeneratedClient:
    """Generate `package` into `output_dir/package` (replaced only once the new one imports).

    `base_url`, when given, becomes the document's only server, so the generated client's docs and
    the caller agree on where it points (the client itself still takes base_url at construction).
    """
    if not _IDENTIFIER.match(package) or keyword.iskeyword(package):
        raise UsageError(f"{package!r} is not a valid Python package name (lower case letters, digits, _)")
    try:
        from datagouv_sdk.codegen.diagnose import Skipped, diagnose
        from datagouv_sdk.codegen.errors import GenerationError
        from datagouv_sdk.codegen.generate import document_stamp, generate_client, load_config
        from datagouv_sdk.codegen.normalise import normalise, sha256_hex
        from datagouv_sdk.codegen.repair import content_type_overrides, repair_document
    except ImportError as exc:  # openapi-python-client and friends are the `codegen` extra
        raise UsageError(
            f"client generation needs the codegen extra (pip install 'datagouv-sdk[codegen]'): {exc}"
        ) from exc
    started = time.perf_counter()
    spec, repairs = repair_document(normalise(document.spec))
    if base_url:
        spec["servers"] = [{"url": base_url}]
    info = spec.setdefault("info", {})
    info.setdefault("title", package)
    info.setdefault("version", "")
    overrides, media_repairs = content_type_overrides(spec)
    repairs += media_repairs
    config = load_config(None, package=package)
    if overrides:
        config["content_type_overrides"] = overrides
    skipped: list[Any] = []
    output_dir = Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{package}.", suffix=".staging", dir=output_dir))
    try:
        for _attempt in range(_ATTEMPTS):
            try:
                diagnosis = diagnose(spec, config)
            except ValueError as exc:
                raise ClientGenerationError(
                    f"no client can be generated from this document: {exc}", url=document.url, skipped=()
                ) from exc
            skipped += diagnosis.skipped
            if not diagnosis.modules:
                raise ClientGenerationError(_nothing_left(skipped), url=document.url, skipped=tuple(skipped))
            spec = diagnosis.spec
            config["class_overrides"] = diagnosis.class_overrides
            try:
                result = generate_client(
                    spec,
                    package=package,
                    output_dir=staging / package,
                    config=config,
                    stamp=document_stamp(
                        package,
                        spec,
                        sha256_hex(normalise(document.original)),
                        regenerate="`dgv dataservices generate`",
                    ),
                    strict=False,
                )
            except GenerationError as exc:
                raise ClientGenerationError(
                    f"the generator failed on this document: {exc}", url=document.url, skipped=tuple(skipped)
                ) from exc
            broken = import_failures(staging, package, timeout=import_timeout)
            if not broken:
                target = output_dir / package
                if target.exists():
                    shutil.rmtree(target)
                os.replace(staging / package, target)
                return GeneratedClient(
                    package=package,
                    path=target,
                    operations=result.endpoint_functions,
                    skipped=tuple(skipped),
                    repairs=tuple([*repairs, *diagnosis.repairs]),
                    notes=diagnosis.notes,
                    seconds=time.perf_counter() - started,
                )
            culprits = _culprits(broken, staging / package, package, diagnosis.modules)
            if not culprits:
                details = "; ".join(f"{m}: {e}" for m, e in sorted(broken.items())[:5])
                raise ClientGenerationError(
                    f"the generated package does not import ({details})",
                    url=document.url,
                    skipped=tuple(skipped),
                )
            for operation, error in culprits.items():
                _remove_operation(spec, operation)
                skipped.append(Skipped(operation, f"its generated code does not import ({error})"))
        raise ClientGenerationError(
            f"the generated package still does not import after {_ATTEMPTS} attempts",
            url=document.url,
            skipped=tuple(skipped),
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _nothing_left(skipped: Iterable[Any]) -> str:
    reasons: dict[str, int] = {}
    for item in skipped:
        reasons[item.reason] = reasons.get(item.reason, 0) + 1
    ranked = sorted(reasons.items(), key=lambda kv: -kv[1])[:8]
    causes = "; ".join(reason if n == 1 else f"{reason} ({n} operations)" for reason, n in ranked)
    return f"no operation of this document can be generated: {causes or 'it has no operations'}"


# -- the import check --------------------------------------------------------------------------------

_IMPORT_SCRIPT = """
import importlib, json, pkgutil, sys
name = sys.argv[1]
failures = {}
try:
    package = importlib.import_module(name)
except Exception as exc:
    print(json.dumps({name: f"{type(exc).__name__}: {exc}"}))
    raise SystemExit(0)
for info in pkgutil.walk_packages(package.__path__, name + "."):
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        failures[info.name] = f"{type(exc).__name__}: {exc}"[:300]
print(json.dumps(failures))
"""


def import_failures(folder: Path, package: str, *, timeout: float = IMPORT_TIMEOUT) -> dict[str, str]:
    """{module: error} for every module of `folder/package` that does not import (fresh interpreter)."""
    folder = folder.resolve()
    env = {**os.environ, "PYTHONPATH": str(folder), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-I",
                "-c",
                f"import sys; sys.path.insert(0, {str(folder)!r})\n" + _IMPORT_SCRIPT,
                package,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=folder,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {package: f"importing it took longer than {timeout:g} s"}
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {package: f"the import check failed: {done.stderr.strip()[-300:]}"}
    return {str(k): str(v) for k, v in found.items()}


def _culprits(
    broken: dict[str, str], package_dir: Path, package: str, modules: dict[tuple[str, str], str]
) -> dict[str, str]:
    """The operations ("METHOD /path") whose code fails to import: their own module, or one of the
    model modules they import. Empty when something else (the package itself) is broken."""
    culprits: dict[str, str] = {}
    sources = {p: p.read_text(encoding="utf-8") for p in (package_dir / "api").rglob("*.py")}
    for module, error in broken.items():
        parts = module.split(".")
        if parts[1:2] == ["api"] and len(parts) == 4 and (parts[2], parts[3]) in modules:
            culprits[modules[(parts[2], parts[3])]] = error
        elif parts[1:2] == ["models"] and len(parts) == 3:
            pattern = re.compile(rf"\bmodels\.{re.escape(parts[2])} import\b")
            for path, source in sources.items():
                rel = path.relative_to(package_dir).with_suffix("").parts
                if len(rel) == 3 and (rel[1], rel[2]) in modules and pattern.search(source):
                    culprits[modules[(rel[1], rel[2])]] = f"{module}: {error}"
        else:
            return {}
    return culprits


def _remove_operation(spec: dict[str, Any], operation: str) -> None:
    method, _, path = operation.partition(" ")
    item = spec.get("paths", {}).get(path)
    if isinstance(item, dict):
        item.pop(method.lower(), None)
