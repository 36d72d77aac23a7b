"""`make specs`: fetch the API specs into specs/upstream/ and check them against specs/lock.json.

Usage: fetch_specs.py [NAME ...] [--mirror DIR | --live] [--accept]
Logic: tools/specpipeline/commands.py, fetch_specs_main (see specs/README.md).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's root: tools/ is not installed

from tools.specpipeline.commands import fetch_specs_main

if __name__ == "__main__":
    sys.exit(fetch_specs_main())
