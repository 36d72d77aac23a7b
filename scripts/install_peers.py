"""Install each test peer (tests/peers/<name>/requirements.txt) into its own venv, .peers/<name>/.

Each real server gets its own virtual environment so its pins never constrain ours. Idempotent:
a venv is rebuilt only when its requirements file changed (a stamp holds the file's sha256).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS_SRC = ROOT / "tests" / "peers"
PEERS_DIR = ROOT / ".peers"


def install(name: str, requirements: Path) -> None:
    target = PEERS_DIR / name
    stamp = target / ".requirements.sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text().strip() == digest:
        print(f"peer {name}: up to date")
        return
    if target.exists():
        shutil.rmtree(target)
    print(f"peer {name}: creating {target.relative_to(ROOT)}", flush=True)
    venv.EnvBuilder(with_pip=True).create(target)
    subprocess.run(
        [str(target / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(requirements)],
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
