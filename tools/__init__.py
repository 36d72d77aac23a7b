"""Maintainer tooling of this repository: not part of the datagouv-sdk wheel (see pyproject.toml)."""
