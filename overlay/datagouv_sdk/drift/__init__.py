"""Upstream spec drift: what changed between two versions of an API spec, and does it break clients?

- `documents`   read a file or URL (JSON/YAML, Swagger 2.0 or OpenAPI 3) → `SpecDocument`
- `compare`     `diff_documents(old, new)`: the semantic diff, every change breaking or not
- `changes`     `Change`, `ApiDiff`, `Severity`, `Direction`
- `report`      text and the stable JSON report (`dgv specs diff --json`; schema documented there)
- `live_check`  opt-in: warn once when a live API serves another spec than a generated package's

Checking the repository's specs against its lock and accepting upstream changes (with a CHANGELOG
entry) are maintainer tools of the source checkout: tools/specpipeline (check, update, changelog).
Modules are imported on use (nothing here), so `dgv` starts fast.
"""
