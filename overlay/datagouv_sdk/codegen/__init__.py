"""What the installed SDK needs of the spec pipeline: reading, converting and generating.

- `normalise.normalise(doc)`, `normalise.canonical_bytes(doc)`, `normalise.sha256_hex(doc)`
- `swagger2.convert(doc)`                  Swagger 2.0 → OpenAPI 3.0 (the SDK's one converter)
- `generate.generate_client(...)`          openapi-python-client driver (the `codegen` extra),
                                           stamping, atomic swap; templates in `templates/`
- `repair.repair_document(doc)`            fix-ups for third-party documents, each with its reason
- `diagnose.diagnose(doc, config)`         what the generator can make of them (its parser, in-process)
- `parameters`                             parameters serialised as a document says (style, explode);
                                           copied into every generated package as `_parameters.py`
- `inventory`                              paths, operations and schemas, counted one way
- `errors`                                 `SpecError` and its runtime subclasses

Discovery (`dgv dataservices generate`) and `TabularResource.generate_client` use them. The
maintainer pipeline that builds this repository's own clients (sources, fetch, validate, lock,
patches, check, update) lives in tools/specpipeline, outside the wheel.
"""
