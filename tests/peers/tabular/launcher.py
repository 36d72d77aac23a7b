"""Start and stop the Tabular/Metrics peer: PostgreSQL 15 → gateway → the two real api_tabular apps.

Stdlib only (it runs in the project venv); the gateway and the apps run in `.peers/<peer>/`
(`make peers`: `tabular` is api_tabular 0.4.1, `tabular_0_3_1` the older release). Each app gets its
own config.toml (CSVAPI_SETTINGS), as production configures them. Everything lives in one temporary
folder removed by `stop()`; every wait is bounded and a failure reports the stuck process's log.
Run it by hand to poke at the peer:

    .venv/bin/python -m tests.peers.tabular.launcher [--peer tabular_0_3_1] [--max-seconds N]
    # prints the URLs; Ctrl-C stops
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.peers.tabular import seed

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
START_TIMEOUT = 60.0
# Low on purpose, so a test can cross it: api_tabular's BATCH_SIZE, the most rows a CSV/JSON export
# may hold before it answers 403 (production uses 50 000).
DEFAULT_CSV_EXPORT_CAP = 500
# Each app loads its swagger YAML from its working directory at start-up (0.3.1 and 0.4.1 differ on
# the Tabular file's name): the file names, and our spec that stands for them.
SWAGGER_FILES = {
    "tabular": (("tabular_swagger.yaml", "ressource_app_swagger.yaml"), "tabular"),
    "metrics": (("metrics_swagger.yaml",), "metrics"),
}
# PAGE_SIZE_MAX per app as production configures it (one config file per app): Tabular answers up
# to 200 rows a page, Metrics keeps api_tabular's default of 50. `None`: the package's own default.
PRODUCTION_PAGE_SIZE_MAX = {"tabular": 200, "metrics": 50}
# Every setting api_tabular reads from the environment (its config_default.toml keys): the
# launcher's own environment must not leak into the apps' configuration.
CONFIG_KEYS = {
    "PGREST_ENDPOINT",
    "SERVER_NAME",
    "SCHEME",
    "SENTRY_DSN",
    "SENTRY_SAMPLE_RATE",
    "PAGE_SIZE_DEFAULT",
    "PAGE_SIZE_MAX",
    "BATCH_SIZE",
    "DOC_PATH",
    "ALLOW_AGGREGATION",
    "ALLOW_AGGREGATION_EXCEPTIONS",
    "CSVAPI_SETTINGS",
    "PYTHONPATH",
}


def peer_version(peer: str) -> str:
    """The api_tabular release a peer venv pins (tests/peers/<peer>/requirements.txt)."""
    text = (HERE.parent / peer / "requirements.txt").read_text()
    match = re.search(r"^udata-hydra-csvapi==(\S+)", text, re.MULTILINE)
    if match is None:
        raise PeerStartError(f"tests/peers/{peer}/requirements.txt pins no udata-hydra-csvapi")
    return match.group(1)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string


def app_config(version: str, *, pgrest: str, export_cap: int, page_size_max: int | None) -> str:
    """The app's config.toml (CSVAPI_SETTINGS). 0.3.2 renamed the aggregation list to
    ALLOW_AGGREGATION_EXCEPTIONS and made ALLOW_AGGREGATION a global switch."""
    settings: dict[str, object] = {"PGREST_ENDPOINT": pgrest, "BATCH_SIZE": export_cap, "SENTRY_DSN": ""}
    if page_size_max is not None:
        settings["PAGE_SIZE_MAX"] = page_size_max
    allowed = list(seed.AGGREGATION_ALLOWED)
    if tuple(int(x) for x in version.split(".")[:3]) >= (0, 3, 2):
        settings.update(ALLOW_AGGREGATION=False, ALLOW_AGGREGATION_EXCEPTIONS=allowed)
    else:
        settings["ALLOW_AGGREGATION"] = allowed
    return "".join(f"{key} = {_toml_value(value)}\n" for key, value in settings.items())


class PeerStartError(RuntimeError):
    """The peer could not be started; the message says what is missing or which process failed."""


# Debian's layout; 15 is what production's PostgREST sits on, any newer major works too.
PG_BIN_PATTERNS = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/*/bin"]


def find_pg_bin() -> Path:
    candidates = [os.environ.get("DATAGOUV_PG_BIN", "")]
    for pattern in PG_BIN_PATTERNS:
        candidates += sorted(glob.glob(pattern), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").is_file() and (Path(candidate) / "postgres").is_file():
            return Path(candidate)
    raise PeerStartError(
        "PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin or "
        "$DATAGOUV_PG_BIN: install them with `apt-get update && apt-get install -y postgresql` "
        "(CI's .ci/run does)."
    )


def find_spec(api: str) -> Path:
    """The Tabular/Metrics spec to place beside the app: fetched copy first, then the offline mirror."""
    mirror = os.environ.get("DATAGOUV_SPECS_MIRROR")
    folders = [ROOT / "specs" / "upstream"]
    if mirror:
        folders += [Path(mirror), Path(mirror) / "specs" / "upstream"]
    folders.append(ROOT.parent / "shared" / "specs")
    for folder in folders:
        for suffix in (".yaml", ".yml", ".json"):
            if (folder / f"{api}{suffix}").is_file():
                return folder / f"{api}{suffix}"
    raise PeerStartError(
        f"no {api} spec found in {', '.join(map(str, folders))}: run `make specs` "
        "(offline: DATAGOUV_SPECS_MIRROR=/path/to/specs make specs)"
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path


@dataclass
class TabularStack:
    """One PostgreSQL + gateway, shared by the Tabular and Metrics apps started on top of it."""

    peer: str = "tabular"  # the venv under .peers/ (and folder under tests/peers/): tabular, tabular_0_3_1
    csv_export_cap: int = DEFAULT_CSV_EXPORT_CAP
    # app -> PAGE_SIZE_MAX; an app missing here runs with the package's default (50)
    page_size_max: dict[str, int] = field(default_factory=lambda: dict(PRODUCTION_PAGE_SIZE_MAX))
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dgv-tabular-peer-")))
    processes: list[_Process] = field(default_factory=list)
    pg_port: int = 0
    gateway_ports: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def peer_python(self) -> Path:
        return ROOT / ".peers" / self.peer / "bin" / "python"

    @property
    def version(self) -> str:
        return peer_version(self.peer)

    # ---- plumbing
    def _spawn(
        self, name: str, argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> _Process:
        log = self.workdir / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        process = _Process(name, popen, log)
        self.processes.append(process)
        return process

    def _wait(self, process: _Process, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise PeerStartError(
                    f"{process.name} exited with {process.popen.returncode} before {what}:\n"
                    f"{_tail(process.log)}"
                )
            if ready():
                return
            time.sleep(0.05)
        raise PeerStartError(f"{process.name}: no {what} after {START_TIMEOUT:.0f} s:\n{_tail(process.log)}")

    def _as_postgres(self, argv: list[str]) -> list[str]:
        # PostgreSQL refuses to run as root; as root we hand the cluster to the `postgres` user.
        # stop() signals the postmaster itself (its pid is in postmaster.pid): runuser ignores SIGINT
        # and turns SIGTERM into a 2 s wait followed by SIGKILL.
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    # ---- stages
    def start_database(self) -> None:
        """PostgreSQL (initdb + start + seed) and the gateway in front of it."""
        started = time.monotonic()
        pg_bin = find_pg_bin()
        if not self.peer_python.is_file():
            raise PeerStartError(
                f"{self.peer_python} missing: run `make peers` (installs tests/peers/{self.peer}/"
                f"requirements.txt into .peers/{self.peer}/)"
            )
        os.chmod(self.workdir, 0o755)  # the postgres user must reach its data folder inside
        data, sockets = self.workdir / "pgdata", self.workdir / "pgsock"
        data.mkdir()
        sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(data, "postgres", "postgres")
            shutil.chown(sockets, "postgres", "postgres")
        initdb = subprocess.run(
            self._as_postgres(
                [
                    str(pg_bin / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                    "--no-instructions",
                ]
            ),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=False,
        )
        if initdb.returncode != 0:
            raise PeerStartError(f"initdb failed ({initdb.returncode}):\n{initdb.stdout}\n{initdb.stderr}")

        def accepting() -> bool:
            probe = subprocess.run(
                [str(pg_bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.pg_port)],
                capture_output=True,
                check=False,
            )
            return probe.returncode == 0

        # postgres takes a port number, not a socket: another server may grab the free port we picked
        # before postgres binds it, so a bind failure gets two more tries on fresh ports.
        for attempt in range(3):
            self.pg_port = free_port()
            postgres = self._spawn(
                "postgres",
                self._as_postgres(
                    [
                        str(pg_bin / "postgres"),
                        "-D",
                        str(data),
                        "-k",
                        str(sockets),
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(self.pg_port),
                        "-c",
                        "fsync=off",
                        "-c",
                        "synchronous_commit=off",
                        "-c",
                        "full_page_writes=off",
                        "-c",
                        "max_connections=40",
                        "-c",
                        "timezone=UTC",
                    ]
                ),
            )
            try:
                self._wait(postgres, "connections accepted", accepting)
                break
            except PeerStartError:
                if attempt == 2 or "could not bind" not in _tail(postgres.log):
                    raise
                self.processes.remove(postgres)
        seed_file = self.workdir / "seed.sql"
        seed_file.write_text(seed.seed_sql())
        seeded = self._psql("-f", str(seed_file))
        if seeded.returncode != 0:
            raise PeerStartError(f"seeding failed:\n{seeded.stderr[-3000:]}")
        self.timings["postgres"] = time.monotonic() - started

        started = time.monotonic()
        ready_file = self.workdir / "gateway.json"
        gateway = self._spawn(
            "gateway",
            [
                str(self.peer_python),
                str(HERE / "postgrest_gateway.py"),
                "--dsn",
                f"host=127.0.0.1 port={self.pg_port} user=postgres dbname=postgres",
                "--listen",
                f"127.0.0.1:0:{seed.TABULAR_SCHEMA}",
                "--listen",
                f"127.0.0.1:0:{seed.METRICS_SCHEMA}",
                "--ready-file",
                str(ready_file),
                "--parent-pid",
                str(os.getpid()),
                "--postmaster-pid-file",
                str(data / "postmaster.pid"),
            ],
        )
        self._wait(gateway, "listening sockets", ready_file.is_file)
        self.gateway_ports = json.loads(ready_file.read_text())
        self.timings["gateway"] = time.monotonic() - started

    def _psql(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [str(find_pg_bin() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"]
        argv += ["-p", str(self.pg_port), "-U", "postgres", "-d", "postgres", *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=START_TIMEOUT, check=False)

    def sql(self, query: str) -> list[list[str]]:
        """Rows of a read-only SQL query on the peer's database (psql's CSV; NULL as an empty cell):
        the oracle tests compare the API's answers with."""
        done = self._psql("--csv", "-t", "-c", query)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed on {query!r}: {done.stderr}")
        import csv
        import io

        return list(csv.reader(io.StringIO(done.stdout)))

    def gateway_url(self, schema: str) -> str:
        return f"http://127.0.0.1:{self.gateway_ports[schema]}"

    def start_app(self, app: str) -> str:
        """Start api_tabular's `tabular` or `metrics` app; returns its base URL once /health/ is 200."""
        started = time.monotonic()
        swagger_names, api = SWAGGER_FILES[app]
        cwd = self.workdir / f"app-{app}"
        cwd.mkdir()
        for swagger_name in swagger_names:
            shutil.copyfile(find_spec(api), cwd / swagger_name)
        schema = seed.TABULAR_SCHEMA if app == "tabular" else seed.METRICS_SCHEMA
        (cwd / "config.toml").write_text(
            app_config(
                self.version,
                pgrest=self.gateway_url(schema),
                export_cap=self.csv_export_cap,
                page_size_max=self.page_size_max.get(app),
            )
        )
        env = {k: v for k, v in os.environ.items() if k not in CONFIG_KEYS}
        env["CSVAPI_SETTINGS"] = str(cwd / "config.toml")
        port_file = cwd / "port"
        process = self._spawn(
            f"api_tabular-{app}",
            [
                str(self.peer_python),
                str(HERE / "run_app.py"),
                app,
                "--port-file",
                str(port_file),
                "--parent-pid",
                str(os.getpid()),
            ],
            cwd=cwd,
            env=env,
        )
        self._wait(process, "a port", port_file.is_file)
        base_url = f"http://127.0.0.1:{int(port_file.read_text())}"

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"{base_url}/health/", timeout=2) as answer:
                    return bool(answer.status == 200)
            except (urllib.error.URLError, OSError):
                return False

        self._wait(process, "healthy /health/", healthy)
        self.timings[app] = time.monotonic() - started
        return base_url

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.workdir / "pgdata" / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.popen.poll() is not None:
                continue
            postmaster = self._postmaster_pid() if process.name == "postgres" else None
            if postmaster is not None:
                try:
                    os.kill(postmaster, signal.SIGINT)  # "fast" shutdown: ends sessions, no checkpoint wait
                    continue
                except ProcessLookupError:
                    pass
            process.popen.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait(timeout=10)
        self.processes.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Bounded even when forgotten: stops after --max-seconds (default one hour).
    max_seconds = (
        float(sys.argv[sys.argv.index("--max-seconds") + 1]) if "--max-seconds" in sys.argv else 3600.0
    )
    peer = sys.argv[sys.argv.index("--peer") + 1] if "--peer" in sys.argv else "tabular"
    signal.signal(signal.SIGTERM, _interrupt)
    stack = TabularStack(peer=peer)
    try:
        stack.start_database()
        urls = {app: stack.start_app(app) for app in ("tabular", "metrics")}
        print(
            json.dumps({"urls": urls, "resources": seed.RESOURCES, "timings_s": stack.timings}, indent=2),
            flush=True,
        )
        time.sleep(max_seconds)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
