"""`make generate`: regenerate generated/<package> from specs/upstream + specs/patches (lock checked).

Usage: generate.py [NAME ...] [--jobs N] [--output DIR]
Logic: tools/specpipeline/commands.py, generate_main (see specs/README.md).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's root: tools/ is not installed

from tools.specpipeline.commands import generate_main

if __name__ == "__main__":
    sys.exit(generate_main())
