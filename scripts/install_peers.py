"""Install each test peer (tests/peers/<name>/requirements.txt) into its own venv, .peers/<name>/.

Each real server gets its own virtual environment so its pins never constrain ours. Idempotent:
a venv is rebuilt only when its requirements file changed (a stamp holds the file's sha256).

Releases not on the package registry (api_tabular 0.4.1) come from a folder of wheels:
$DATAGOUV_PEER_WHEELS, else ../shared/peers beside the checkout (what CI has, offline). Without that
folder, a requirement line ending in ``# online: <requirement>`` is replaced by that requirement
(e.g. the upstream release commit, fetched by pip from its git host).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS_SRC = ROOT / "tests" / "peers"
PEERS_DIR = ROOT / ".peers"
ONLINE = re.compile(r"^(?P<requirement>[^#]*?)\s+#\s*online:\s*(?P<online>.+?)\s*$")


def wheels_folder() -> Path | None:
    """The local folder of peer wheels, when there is one."""
    configured = os.environ.get("DATAGOUV_PEER_WHEELS")
    for candidate in [Path(configured)] if configured else [ROOT.parent / "shared" / "peers"]:
        if candidate.is_dir():
            return candidate
    return None


def pip_arguments(requirements: Path, scratch: Path) -> list[str]:
    """`pip install` arguments for one peer: the local wheels folder as an extra source, or the
    requirements rewritten with their ``# online:`` replacements."""
    wheels = wheels_folder()
    if wheels is not None:
        return ["--find-links", str(wheels), "-r", str(requirements)]
    lines = []
    for line in requirements.read_text().splitlines():
        match = ONLINE.match(line)
        lines.append(match["online"] if match else line)
    scratch.write_text("\n".join(lines) + "\n")
    print(f"  no {ROOT.parent / 'shared' / 'peers'}: installing the online sources", flush=True)
    return ["-r", str(scratch)]


def install(name: str, requirements: Path) -> None:
    target = PEERS_DIR / name
    stamp = target / ".requirements.sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text().strip() == digest:
        print(f"peer {name}: up to date")
        return
    if target.is_symlink():  # a venv shared from another checkout: never rebuilt through the link
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    print(f"peer {name}: creating {target.relative_to(ROOT)}", flush=True)
    venv.EnvBuilder(with_pip=True).create(target)
    scratch = target / ".requirements.online.txt"
    subprocess.run(
        [str(target / "bin" / "python"), "-m", "pip", "install", "-q", *pip_arguments(requirements, scratch)],
        check=True,
    )
    subprocess.run(
        [str(target / "bin" / "python"), "-m", "compileall", "-q", "-j", "0", str(target)],
        check=False,
        stdout=subprocess.DEVNULL,
    )
    stamp.write_text(digest + "\n")


def main() -> int:
    found = sorted(PEERS_SRC.glob("*/requirements.txt"))
    for requirements in found:
        install(requirements.parent.name, requirements)
    if not found:
        print("no peers declared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
