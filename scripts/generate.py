"""`make generate`: regenerate generated/<package> from specs/upstream + specs/patches (lock checked).

Usage: generate.py [NAME ...] [--jobs N] [--output DIR]
Logic: datagouv_sdk.codegen.commands.generate_main (see specs/README.md).
"""

import sys

from datagouv_sdk.codegen.commands import generate_main

if __name__ == "__main__":
    sys.exit(generate_main())
