"""`python -m tools.specpipeline fetch|generate|check|update ...` (see commands.py)."""

import sys

from tools.specpipeline.commands import main

sys.exit(main())
