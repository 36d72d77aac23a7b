"""The spec pipeline: fetch → normalise → validate → lock → convert (Swagger 2.0 only) → patch → generate.

Each step is a function of its own module, usable alone (the drift tooling and the dataservice
generator reuse them):

- `sources.load_sources()`                 the APIs we generate, from specs/sources.json
- `fetch.fetch_document(source, mirror)`   live URL (retries) or offline mirror → parsed dict
- `validate.validate_document(doc, fmt)`   openapi-spec-validator on the upstream document
- `normalise.normalise(doc)`, `normalise.canonical_bytes(doc)`, `normalise.sha256_hex(doc)`
- `lock.load_lock()`, `lock.write_lock()`, `lock.check_against_lock()`
- `patches.load_patches(name)`, `patches.apply_patches(doc, patch_set)`
- `pipeline.prepare(name, doc)`            the exact OAS 3 document fed to the generator
- `generate.generate_client(...)`          openapi-python-client driver, stamping, atomic swap
"""
