"""`make specs`: fetch the API specs into specs/upstream/ and check them against specs/lock.json.

Usage: fetch_specs.py [NAME ...] [--mirror DIR | --live] [--accept]
Logic: datagouv_sdk.codegen.commands.fetch_specs_main (see specs/README.md).
"""

import sys

from datagouv_sdk.codegen.commands import fetch_specs_main

if __name__ == "__main__":
    sys.exit(fetch_specs_main())
