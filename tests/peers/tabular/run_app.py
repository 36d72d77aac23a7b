"""Run one real api_tabular app (tabular or metrics) on a loopback socket; runs in .peers/tabular.

api_tabular's own `run()` binds every interface on a fixed port, so we bind 127.0.0.1:0 ourselves,
publish the chosen port as SERVER_NAME (the apps build absolute `links` from it, and read their
config from the environment at import time), write it to --port-file, then serve the app's factory.
The app reads its swagger YAML from the working directory: start this with cwd set to a folder
holding `ressource_app_swagger.yaml` / `metrics_swagger.yaml`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import socket
import sys
import threading
import time


def _watchdog(parent_pid: int | None, max_seconds: float) -> None:
    """Bounds our lifetime when the launcher dies without cleaning up (SIGKILL): SIGTERM ourselves."""
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        time.sleep(1)
        if parent_pid is not None:
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
    os.kill(os.getpid(), signal.SIGTERM)  # aiohttp's run_app shuts down cleanly on SIGTERM


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=["tabular", "metrics"])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    parser.add_argument("--max-seconds", type=float, default=3 * 3600, help="hard lifetime bound")
    args = parser.parse_args()
    threading.Thread(target=_watchdog, args=(args.parent_pid, args.max_seconds), daemon=True).start()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    os.environ["SERVER_NAME"] = f"127.0.0.1:{port}"
    os.environ.setdefault("SCHEME", "http")

    from aiohttp import web  # after the environment is final: api_tabular reads it on import

    module = importlib.import_module(f"api_tabular.{args.app}.app")
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.replace(tmp, args.port_file)
    web.run_app(module.app_factory(), sock=sock, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
