"""Validation of the upstream document with openapi-spec-validator (pinned), before anything trusts it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from datagouv_sdk.codegen.normalise import normalise
from jsonschema_path import SchemaPath
from openapi_spec_validator import OpenAPIV2SpecValidator, OpenAPIV30SpecValidator
from openapi_spec_validator.validation import keywords
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from tools.specpipeline.errors import SpecInvalidError
from tools.specpipeline.sources import SpecFormat

__all__ = ["detect_format", "validate_document"]

# How many structural errors a SpecInvalidError message lists.
_MAX_LISTED = 5


class DefaultMismatch(OpenAPIValidationError):
    """A schema's `default` that its own schema rejects.

    udata publishes a few (e.g. a granularity default "other" on an object-typed field). They say nothing
    about the shape of requests and responses, so they are reported, not fatal.
    """


class _LenientDefaultValidator(keywords.OpenAPIV30ValueValidator):
    def __call__(
        self, schema: SchemaPath, value: Any
    ) -> Iterator[Any]:  # jsonschema ValidationErrors (untyped)
        where = "/" + "/".join(str(part) for part in schema.parts)
        for error in super().__call__(schema, value):
            yield DefaultMismatch(f"{where}: default {value!r}: {error.message}")


class _V2Validator(OpenAPIV2SpecValidator):
    keyword_validators = {  # noqa: RUF012 - the base class declares a plain dict
        **OpenAPIV2SpecValidator.keyword_validators,
        "default": _LenientDefaultValidator,
    }


class _V30Validator(OpenAPIV30SpecValidator):
    keyword_validators = {  # noqa: RUF012 - the base class declares a plain dict
        **OpenAPIV30SpecValidator.keyword_validators,
        "default": _LenientDefaultValidator,
    }


def detect_format(doc: dict[str, Any]) -> SpecFormat | None:
    if doc.get("swagger") == "2.0":
        return "swagger-2.0"
    version = doc.get("openapi")
    if isinstance(version, str) and version.startswith("3.0."):
        return "openapi-3.0"
    return None


def validate_document(doc: dict[str, Any], expected: SpecFormat, *, name: str = "spec") -> list[str]:
    """Raise SpecInvalidError unless `doc` is a valid `expected` document; return the non-fatal findings.

    Keys are normalised to strings first: the validator chokes on YAML's integer status codes.
    """
    found = detect_format(doc)
    if found != expected:
        declared = doc.get("swagger") or doc.get("openapi") or "no swagger/openapi field"
        raise SpecInvalidError(f"{name}: expected a {expected} document, got {declared!r}")
    doc = normalise(doc)
    validator = _V2Validator(doc) if expected == "swagger-2.0" else _V30Validator(doc)
    findings: list[str] = []
    errors: list[str] = []
    try:
        for error in validator.iter_errors():
            if isinstance(error, DefaultMismatch):
                findings.append(error.message)
                continue
            where = "/" + "/".join(str(p) for p in error.path)
            errors.append(f"{where}: {error.message}")
    except (KeyError, TypeError, AttributeError, AssertionError) as exc:
        # openapi-spec-validator crashes on some malformed documents (e.g. `paths: 7`) instead of
        # reporting them; such a document is invalid all the same.
        raise SpecInvalidError(f"{name}: invalid {expected} document ({exc!r})") from exc
    if errors:
        listed = "\n  ".join(errors[:_MAX_LISTED])
        more = f"\n  ... and {len(errors) - _MAX_LISTED} more" if len(errors) > _MAX_LISTED else ""
        raise SpecInvalidError(
            f"{name}: invalid {expected} document ({len(errors)} errors):\n  {listed}{more}"
        )
    return [f"{name}: default rejected by its own schema at {text}" for text in findings]
