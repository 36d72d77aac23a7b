"""Drive openapi-python-client (pinned) from a prepared OAS 3 document into generated/<package>.

The generator runs in a subprocess (`--meta none --fail-on-warning --overwrite`; without
`--fail-on-warning` for third-party documents, whose warnings codegen.diagnose has already turned into
a list of what is skipped) into a temporary folder beside the target, with the venv's bin first on
PATH so its post-hooks use the pinned ruff. The package gets `_parameters.py` (codegen/parameters.py
and the document's STYLES table, which our endpoint templates call). The result is then stamped (a
DO-NOT-EDIT header on every file, spec hashes in `__init__.py`), checked (one `sync_detailed` per
operation) and swapped in with renames: a failed run leaves the previous package in place.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs
import yaml

from datagouv_sdk.codegen import parameters
from datagouv_sdk.codegen.errors import GenerationError
from datagouv_sdk.codegen.inventory import operations
from datagouv_sdk.codegen.normalise import HTTP_METHODS, canonical_bytes, sha256_hex
from datagouv_sdk.codegen.parameters import DEFAULT_STYLES, Style

__all__ = [
    "GENERATOR",
    "GenerationResult",
    "Stamp",
    "count_endpoint_functions",
    "document_stamp",
    "generate_client",
    "generator_version",
    "header_line",
    "load_config",
    "tree_sha256",
]

GENERATOR = "openapi-python-client"
# Upper bound for one generator run (Main takes seconds; a hang must not block `make` forever).
GENERATION_TIMEOUT = 600.0
_ENDPOINT_FN = re.compile(r"^def sync_detailed\(", re.MULTILINE)
_CONFIG_KEYS = {
    "class_overrides",
    "content_type_overrides",
    "project_name_override",
    "package_name_override",
    "package_version_override",
    "use_path_prefixes_for_title_model_names",
    "post_hooks",
    "docstrings_on_attributes",
    "field_prefix",
    "generate_all_tags",
    "http_timeout",
    "literal_enums",
}


# Our overrides of openapi-python-client templates (see templates/README.md), shipped in the package
# so that clients generated from an installed SDK (discovery, per-resource) get them too.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@attrs.frozen
class Stamp:
    """What the generated package records about where it came from."""

    name: str  # API name in the header ("tabular")
    spec_version: str  # info.version
    spec_sha256: str  # hash of the prepared document fed to the generator
    upstream_sha256: str  # hash of the normalised upstream document (the lock's)
    regenerate: str = "`make generate`"  # how to regenerate, in the DO NOT EDIT header


@attrs.frozen
class GenerationResult:
    package: str
    output_dir: Path
    endpoint_functions: int
    operations: int
    warnings: tuple[str, ...]  # the generator's output besides its "Generating <dir>" line
    seconds: float
    stamp: Stamp


def generator_version() -> str:
    return importlib.metadata.version(GENERATOR)


def load_config(path: Path | None, *, package: str) -> dict[str, Any]:
    """The generator config (specs/config/<name>.yaml), with `package_name_override` checked against the
    package sources.json names. Without a file: literal enums and the ruff post-hooks of the committed files."""
    if path is None or not path.exists():
        config: dict[str, Any] = {
            "literal_enums": True,
            "post_hooks": [
                "ruff check . --fix-only --isolated --no-cache --no-respect-gitignore --extend-select=I --quiet",
                "ruff format . --isolated --no-cache --no-respect-gitignore --quiet",
            ],
        }
    else:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise GenerationError(f"cannot read generator config {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise GenerationError(f"{path}: expected a mapping of openapi-python-client options")
        unknown = sorted(set(loaded) - _CONFIG_KEYS)
        if unknown:
            raise GenerationError(f"{path}: unknown openapi-python-client options {unknown}")
        config = loaded
    override = config.setdefault("package_name_override", package)
    if override != package:
        raise GenerationError(
            f"{path}: package_name_override {override!r} differs from sources.json's {package!r}"
        )
    return config


def generate_client(
    document: dict[str, Any],
    *,
    package: str,
    output_dir: Path,
    config: dict[str, Any],
    stamp: Stamp,
    templates: Path | None = TEMPLATES_DIR,
    strict: bool = True,
) -> GenerationResult:
    """Generate `package` from the prepared OAS 3 `document` into `output_dir` (replaced on success).
    `templates`: our template overrides (default), or None for openapi-python-client's own.
    `strict`: any generator warning fails the run (our own specs); off for third-party documents."""
    if templates is not None and not templates.is_dir():
        # the generator silently falls back to its own templates for a missing folder
        raise GenerationError(f"custom templates folder {templates} does not exist")
    started = time.perf_counter()
    output_dir = output_dir.resolve()
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    # Same folder as the target, so the final swap is a rename; the dot keeps it off import paths.
    work = Path(tempfile.mkdtemp(prefix=f".{package}.", suffix=".tmp", dir=output_dir.parent))
    try:
        spec_path = work / "spec.json"
        spec_path.write_bytes(canonical_bytes(document))
        config_path = work / "config.json"
        config_path.write_text(json.dumps(config, sort_keys=True), encoding="utf-8")
        staged = work / package
        output = _run_generator(
            spec_path, config_path, staged, templates=templates, package=package, strict=strict
        )
        shutil.rmtree(staged / ".ruff_cache", ignore_errors=True)  # a config without --no-cache
        if templates is not None:  # our endpoint templates call it
            write_parameters_module(staged, document)
        warnings = tuple(
            line for line in output.splitlines() if line.strip() and not line.startswith("Generating ")
        )
        _stamp_tree(staged, stamp)
        endpoint_functions = count_endpoint_functions(staged)
        expected = len(operations(document))
        if endpoint_functions != expected:
            raise GenerationError(
                f"{package}: {endpoint_functions} endpoint functions generated for {expected} operations "
                f"in the spec; the generator dropped or merged some (output: {output.strip() or 'none'})"
            )
        _swap_in(staged, output_dir, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return GenerationResult(
        package=package,
        output_dir=output_dir,
        endpoint_functions=endpoint_functions,
        operations=expected,
        warnings=warnings,
        seconds=time.perf_counter() - started,
        stamp=stamp,
    )


def _run_generator(
    spec: Path, config: Path, staged: Path, *, templates: Path | None, package: str, strict: bool
) -> str:
    bin_dir = Path(sys.executable).parent  # not resolved: a venv's bin/python is a symlink to the base
    if not (bin_dir / "ruff").exists():
        raise GenerationError(
            f"ruff is not installed next to {sys.executable}; the post-hooks need the pinned one "
            "(pip install -e '.[codegen]')"
        )
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(spec),
        "--config",
        str(config),
        "--meta",
        "none",
        *(["--fail-on-warning"] if strict else []),
        "--overwrite",
        "--output-path",
        str(staged),
    ]
    if templates is not None:
        command += ["--custom-template-path", str(templates)]
    env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])}
    env.pop("NO_COLOR", None)
    env["TERM"] = "dumb"  # the generator's typer/rich output: no colour codes in captured warnings
    try:
        done = subprocess.run(
            command,
            cwd=spec.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=GENERATION_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise GenerationError(
            f"{package}: {GENERATOR} did not finish within {GENERATION_TIMEOUT:.0f} s"
        ) from exc
    output = (done.stdout + done.stderr).replace(str(staged), f"<{package}>")
    if done.returncode != 0:
        raise GenerationError(f"{package}: {GENERATOR} failed (exit {done.returncode}):\n{output.strip()}")
    if not (staged / "__init__.py").exists():
        raise GenerationError(f"{package}: {GENERATOR} exited 0 but wrote no package:\n{output.strip()}")
    return output


def parameter_styles(document: dict[str, Any]) -> dict[tuple[str, str], dict[tuple[str, str], Style]]:
    """(method, path) → {(location, name): (style, explode, allowReserved)} for every parameter whose
    serialisation differs from its location's default (path-level parameters merged in)."""

    def resolve(value: Any) -> Any:
        for _hop in range(32):
            ref = value.get("$ref") if isinstance(value, dict) else None
            if not (isinstance(ref, str) and ref.startswith("#/")):
                break
            target: Any = document
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, dict) else None
            value = target
        return value

    table: dict[tuple[str, str], dict[tuple[str, str], Style]] = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            styles: dict[tuple[str, str], Style] = {}
            for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
                param = resolve(raw)
                if not isinstance(param, dict) or param.get("in") not in DEFAULT_STYLES:
                    continue
                location, name = str(param["in"]), str(param.get("name"))
                style = str(param.get("style") or DEFAULT_STYLES[location][0])
                explode = param.get("explode")
                entry = (
                    style,
                    style == "form" if explode is None else bool(explode),
                    bool(param.get("allowReserved")),
                )
                if entry != DEFAULT_STYLES[location]:
                    styles[(location, name)] = entry
                else:
                    styles.pop((location, name), None)
            if styles:
                table[(method, str(path))] = styles
    return table


def write_parameters_module(package_dir: Path, document: dict[str, Any]) -> None:
    """`<package>/_parameters.py`: our serialiser, verbatim, with the document's STYLES table."""
    source = Path(parameters.__file__).read_text(encoding="utf-8")
    rows = "".join(f"    {key!r}: {value!r},\n" for key, value in parameter_styles(document).items())
    table = "STYLES: StyleTable = {\n" + rows + "}\n" if rows else "STYLES: StyleTable = {}\n"
    marker = "STYLES: StyleTable = {}\n"
    if not source.endswith(marker):
        raise GenerationError(f"{parameters.__file__} must end with {marker!r}")
    target = package_dir / "_parameters.py"
    target.write_text(source[: -len(marker)] + table, encoding="utf-8")
    # formatted like the rest of the package (the generator's post-hooks ran before it was written)
    ruff = Path(sys.executable).parent / "ruff"
    subprocess.run(
        [str(ruff), "format", "--isolated", "--no-cache", "--quiet", str(target)], check=True, timeout=60
    )


def header_line(stamp: Stamp) -> str:
    return (
        f"# Generated by {GENERATOR} {generator_version()} from {stamp.name} spec "
        f"sha256:{stamp.spec_sha256[:12]} — DO NOT EDIT; regenerate with {stamp.regenerate}\n"
    )


def _stamp_tree(package_dir: Path, stamp: Stamp) -> None:
    header = header_line(stamp)
    for path in sorted(package_dir.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path == package_dir / "__init__.py":
            text = text.rstrip("\n") + "\n\n" + _spec_constants(stamp)
        path.write_text(header + text, encoding="utf-8")
    # PEP 561: type checkers read an installed package's annotations only when it carries py.typed.
    (package_dir / "py.typed").write_text("", encoding="utf-8")


def _spec_constants(stamp: Stamp) -> str:
    return (
        "# Which documents this package was generated from (stamped by datagouv_sdk.codegen.generate).\n"
        f"__spec_version__ = {json.dumps(stamp.spec_version)}\n"
        f"__spec_sha256__ = {json.dumps(stamp.spec_sha256)}  # the prepared OAS 3 document (converted + patched)\n"
        f"__upstream_sha256__ = {json.dumps(stamp.upstream_sha256)}  # the normalised upstream document (lock)\n"
    )


def _swap_in(staged: Path, target: Path, work: Path) -> None:
    """Replace `target` by `staged` with two renames; the old tree goes to `work` (deleted by the caller)."""
    if target.exists():
        os.replace(target, work / "previous")
    os.replace(staged, target)


def count_endpoint_functions(package_dir: Path) -> int:
    """`def sync_detailed(` occurrences under api/: one per generated endpoint."""
    api = package_dir / "api"
    return sum(len(_ENDPOINT_FN.findall(p.read_text(encoding="utf-8"))) for p in sorted(api.rglob("*.py")))


def tree_sha256(root: Path) -> str:
    """One hash over every file's relative path and bytes (determinism checks)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def document_stamp(
    name: str, prepared: dict[str, Any], upstream_sha256: str, *, regenerate: str = "`make generate`"
) -> Stamp:
    version = (prepared.get("info") or {}).get("version")
    return Stamp(
        name=name,
        spec_version=str(version) if version is not None else "",
        spec_sha256=sha256_hex(prepared),
        upstream_sha256=upstream_sha256,
        regenerate=regenerate,
    )
