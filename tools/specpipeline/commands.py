"""The maintainer commands: `python -m tools.specpipeline fetch|generate|check|update` (`main`), behind
`make specs`, `make generate`, `make check-specs` and `make update-specs`. scripts/fetch_specs.py and
scripts/generate.py call `fetch_specs_main` / `generate_main`.

Exit codes: 0 done (check: unchanged); 1 check: upstream changed, fetch/generate: an API failed;
2 bad usage, or check/update could not fetch or read a spec.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

import attrs
from datagouv_sdk.codegen.generate import (
    GenerationResult,
    document_stamp,
    generate_client,
    load_config,
)
from datagouv_sdk.codegen.normalise import canonical_bytes, normalise
from datagouv_sdk.drift.report import ApiReport, render_json, render_text
from datagouv_sdk.errors import DataGouvError

from tools.specpipeline.check import EXIT_FAILED, check_specs, exit_code
from tools.specpipeline.errors import SpecError
from tools.specpipeline.fetch import MIRROR_ENV, fetch_document, resolve_mirror
from tools.specpipeline.layout import RepoLayout, atomic_write_bytes, default_layout
from tools.specpipeline.lock import (
    ACCEPT_HINT,
    LockEntry,
    check_against_lock,
    load_lock,
    make_entry,
    write_lock,
)
from tools.specpipeline.pipeline import load_upstream, prepare
from tools.specpipeline.sources import Source, select_sources
from tools.specpipeline.update import update_specs
from tools.specpipeline.validate import validate_document

__all__ = [
    "FetchOutcome",
    "check_main",
    "fetch_specs",
    "fetch_specs_main",
    "generate_all",
    "generate_main",
    "main",
    "update_main",
]


@attrs.frozen
class FetchOutcome:
    name: str
    entry: LockEntry | None  # None when the fetch failed
    status: str  # "unchanged", "locked", "accepted", "differs from lock", or the error message
    findings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.entry is not None


def fetch_specs(
    names: Sequence[str] = (),
    *,
    mirror: str | Path | None = None,
    live: bool = False,
    accept: bool = False,
    layout: RepoLayout | None = None,
) -> list[FetchOutcome]:
    """Fetch, validate, normalise and write specs/upstream/<name>.json for each source; update the lock
    for new entries, or for changed ones only with `accept`. A failure leaves that API's files untouched."""
    layout = layout or default_layout()
    lock = load_lock(layout)
    new_lock = dict(lock)
    outcomes: list[FetchOutcome] = []
    for source in select_sources(list(names), layout):
        try:
            outcomes.append(_fetch_one(source, mirror, live, accept, layout, lock, new_lock))
        except SpecError as exc:
            outcomes.append(FetchOutcome(name=source.name, entry=None, status=str(exc)))
    if new_lock != lock:
        write_lock(new_lock, layout)
    return outcomes


def _fetch_one(
    source: Source,
    mirror: str | Path | None,
    live: bool,
    accept: bool,
    layout: RepoLayout,
    lock: dict[str, LockEntry],
    new_lock: dict[str, LockEntry],
) -> FetchOutcome:
    doc = fetch_document(source, None if live else mirror, use_env=not live)
    findings = validate_document(doc, source.format, name=source.name)
    normalised = normalise(doc)
    atomic_write_bytes(layout.upstream_path(source.name), canonical_bytes(normalised))
    previous = lock.get(source.name)
    entry = make_entry(source, normalised, previous=previous)
    if previous is None:
        new_lock[source.name] = entry
        status = "locked (first entry)"
    elif previous.sha256 == entry.sha256:
        status = "unchanged"
    elif accept:
        new_lock[source.name] = entry
        status = f"accepted (was sha256:{previous.sha256[:12]}, version {previous.version})"
    else:
        status = (
            f"DIFFERS from lock (locked sha256:{previous.sha256[:12]}, version {previous.version}); "
            f"generation will refuse it until accepted: {ACCEPT_HINT}"
        )
    return FetchOutcome(name=source.name, entry=entry, status=status, findings=tuple(findings))


def fetch_specs_main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="fetch_specs.py",
        description="Fetch the API specs into specs/upstream/ (live, or from a mirror folder) and check the lock.",
    )
    parser.add_argument("names", nargs="*", help="APIs to fetch (default: all in specs/sources.json)")
    parser.add_argument(
        "--mirror", metavar="DIR", help=f"read <DIR>/<mirror file> instead of the URL (or ${MIRROR_ENV})"
    )
    parser.add_argument(
        "--live", action="store_true", help=f"fetch the live URLs even if ${MIRROR_ENV} is set"
    )
    parser.add_argument(
        "--accept",
        "--update-lock",
        dest="accept",
        action="store_true",
        help="record changed specs in specs/lock.json",
    )
    args = parser.parse_args(argv)
    if args.live and args.mirror:
        parser.error("--live and --mirror exclude each other")
    folder = None if args.live else resolve_mirror(args.mirror)
    print(f"fetching specs from {f'mirror {folder}' if folder else 'the live URLs'}", file=out)
    try:
        outcomes = fetch_specs(args.names, mirror=args.mirror, live=args.live, accept=args.accept)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for outcome in outcomes:
        for finding in outcome.findings:
            print(f"  note: {finding}", file=out)
        if outcome.entry is None:
            failed += 1
            print(f"error: {outcome.status} (previous files kept)", file=sys.stderr)
            continue
        counts = outcome.entry.counts
        print(
            f"{outcome.name}: version {outcome.entry.version}, {counts.paths} paths, {counts.operations} operations, "
            f"{counts.schemas} schemas, sha256:{outcome.entry.sha256[:12]}: {outcome.status}",
            file=out,
        )
    return 1 if failed else 0


def generate_all(
    names: Sequence[str] = (),
    *,
    layout: RepoLayout | None = None,
    output_root: Path | None = None,
    jobs: int = 2,
) -> list[GenerationResult | SpecError]:
    """Generate each named package (all by default) into <output_root or generated/>/<package>, in parallel."""
    layout = layout or default_layout()
    sources = select_sources(list(names), layout)
    lock = load_lock(layout)
    root = output_root or layout.generated_dir

    def one(source: Source) -> GenerationResult | SpecError:
        try:
            upstream = normalise(load_upstream(source.name, layout))
            entry = check_against_lock(source.name, upstream, lock)
            prepared = prepare(source.name, upstream, layout=layout)
            return generate_client(
                prepared,
                package=source.package,
                output_dir=root / source.package,
                config=load_config(layout.config_path(source.name), package=source.package),
                stamp=document_stamp(source.name, prepared, entry.sha256),
            )
        except SpecError as exc:
            return exc

    # The generator runs as a subprocess, so threads are enough to use both cores.
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, sources))


def generate_main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="generate.py", description="Generate generated/<package> from specs/upstream + specs/patches."
    )
    parser.add_argument("names", nargs="*", help="APIs to generate (default: all in specs/sources.json)")
    parser.add_argument("--jobs", type=int, default=2, help="generator processes in parallel (default 2)")
    parser.add_argument(
        "--output", metavar="DIR", type=Path, help="write packages under DIR instead of generated/"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        results = generate_all(args.names, output_root=args.output, jobs=args.jobs)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for result in results:
        if isinstance(result, SpecError):
            failed += 1
            print(f"error: {result}", file=sys.stderr)
            continue
        print(
            f"{result.package}: {result.endpoint_functions} endpoint functions / {result.operations} operations, "
            f"spec {result.stamp.spec_version} sha256:{result.stamp.spec_sha256[:12]}, "
            f"{len(result.warnings)} warnings, {result.seconds:.1f} s",
            file=out,
        )
        for warning in result.warnings:
            print(f"  warning: {warning}", file=out)
    print(
        f"generated {len(results) - failed}/{len(results)} packages in {time.perf_counter() - started:.1f} s",
        file=out,
    )
    return 1 if failed else 0


def check_main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Fetch every spec and compare with specs/lock.json; writes nothing. Exit 0 unchanged, 1 upstream
    changed (the semantic diff is printed), 2 a fetch failed or a document is invalid."""
    args = _drift_parser("check", check_main.__doc__).parse_args(argv)
    try:
        reports = check_specs(_layout(args.root), args.mirror)
    except DataGouvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    _print_reports(reports, args.json, out or sys.stdout)
    return exit_code(reports)


def update_main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Accept upstream: write specs/upstream/*.json and specs/lock.json, prepend a CHANGELOG.md entry.
    Nothing is written unless every spec was fetched and is valid (else exit 2)."""
    out = out or sys.stdout
    args = _drift_parser("update", update_main.__doc__).parse_args(argv)
    try:
        result = update_specs(_layout(args.root), args.mirror)
    except DataGouvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    _print_reports(list(result.reports), args.json, out)
    if not args.json:
        for path in result.written:
            print(f"wrote {path}", file=out)
        if not result.written:
            print("nothing to write: specs/ already matches upstream", file=out)
    return 0


_COMMANDS = {"fetch": fetch_specs_main, "generate": generate_main, "check": check_main, "update": update_main}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in _COMMANDS:
        print(
            f"usage: python -m tools.specpipeline {{{','.join(_COMMANDS)}}} [--help | ARGS]",
            file=sys.stderr,
        )
        return 0 if args[:1] in (["-h"], ["--help"]) else 2
    return _COMMANDS[args[0]](args[1:])


def _drift_parser(command: str, doc: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m tools.specpipeline {command}", description=doc)
    parser.add_argument(
        "--mirror",
        metavar="DIR",
        type=Path,
        help=f"offline folder of spec files (default: ${MIRROR_ENV}, else the live URLs)",
    )
    parser.add_argument(
        "--root",
        metavar="DIR",
        type=Path,
        help="repository root holding specs/ (default: this checkout, or $DATAGOUV_SDK_ROOT)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable report (see drift.report)")
    return parser


def _layout(root: Path | None) -> RepoLayout:
    return RepoLayout(root.resolve()) if root is not None else default_layout()


def _print_reports(reports: list[ApiReport], as_json: bool, out: TextIO) -> None:
    out.write(render_json(reports) if as_json else render_text(reports))
