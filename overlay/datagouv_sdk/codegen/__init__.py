"""What the installed SDK needs of the spec pipeline: reading, converting and generating.

- `normalise.normalise(doc)`, `normalise.canonical_bytes(doc)`, `normalise.sha256_hex(doc)`
- `swagger2.convert(doc)`                  Swagger 2.0 → OpenAPI 3.0 (the SDK's one converter)
- `generate.generate_client(...)`          openapi-python-client driver (the `codegen` extra),
                                           stamping, atomic swap; templates in `templates/`
- `inventory`                              paths, operations and schemas, counted one way
- `errors`                                 `SpecError` and its runtime subclasses

Discovery (`dgv dataservices generate`) and `TabularResource.generate_client` use them. The
maintainer pipeline that builds this repository's own clients (sources, fetch, validate, lock,
patches, check, update) lives in tools/specpipeline, outside the wheel.
"""
