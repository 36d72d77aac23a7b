"""The maintainer spec pipeline: fetch → validate → normalise → lock → convert (Swagger 2.0 only) →
patch → generate, and the drift commands around it. Run as `python -m tools.specpipeline
fetch|generate|check|update` (commands.py), by `make specs|generate|check-specs|update-specs`.

Outside the wheel: it reads and writes this checkout's specs/ and generated/ (layout.py). What the
installed SDK needs (normalise, swagger2, generate, the spec reader and differ) is in
datagouv_sdk.codegen and datagouv_sdk.drift, which these modules use.

- `sources.load_sources()`                 the APIs we generate, from specs/sources.json
- `fetch.fetch_document(source, mirror)`   live URL (the SDK's transport, retries) or offline mirror
- `validate.validate_document(doc, fmt)`   openapi-spec-validator on the upstream document
- `lock.load_lock()`, `lock.write_lock()`, `lock.check_against_lock()`
- `patches.load_patches(name)`, `patches.apply_patches(doc, patch_set)`
- `pipeline.prepare(name, doc)`            the exact OAS 3 document fed to the generator
- `check.check_specs()`, `update.update_specs()`, `changelog.prepend_entry()`
"""
