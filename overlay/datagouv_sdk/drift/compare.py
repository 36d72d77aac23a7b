"""Semantic diff of two OpenAPI 3 documents (Swagger 2.0 is converted first: see drift.documents).

What is compared: operations (matched by method and path template, parameter names ignored),
parameters (matched by name and location), request bodies and responses per status and media type,
and their schemas followed through `$ref`s. A named component schema is compared once per
direction and its changes are reported once, with the operations that reach it; a `$ref` cycle
stops at the second visit of the same pair of components.

Severity follows one rule, from the client's side: a request may accept more and a response may
produce less; anything else breaks a client. So a narrowed request enum, a new required request
parameter, a removed response property or a response property that became nullable are breaking;
a widened request enum, a new optional parameter or a new response property are not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import attrs

from datagouv_sdk.codegen.normalise import HTTP_METHODS
from datagouv_sdk.drift.changes import ApiDiff, Change, Direction, Severity

__all__ = ["diff_documents"]

_SCHEMA_REF = "#/components/schemas/"
# Type pairs (old, new) where every old value is also a new value.
_WIDER_TYPES = {("integer", "number")}

B, NB = Severity.BREAKING, Severity.NON_BREAKING
REQ, RESP = Direction.REQUEST, Direction.RESPONSE


def diff_documents(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    old_names: Mapping[str, str] | None = None,
    new_names: Mapping[str, str] | None = None,
) -> ApiDiff:
    """Compare two OpenAPI 3 documents (already normalised/converted) and classify every change.

    `old_names`/`new_names` map component names to the names reported (upstream's names before a
    Swagger 2.0 conversion sanitised them); a name missing from the map is reported as is.
    """
    return _Differ(old, new, old_names or {}, new_names or {}).run()


def _widens(direction: Direction) -> Severity:
    """Severity of a change that lets a value take MORE forms than before."""
    return NB if direction is REQ else B


def _narrows(direction: Direction) -> Severity:
    """Severity of a change that lets a value take FEWER forms than before."""
    return B if direction is REQ else NB


# A Change with only a place: what `_Where` fills in.
_BLANK = Change("", NB, "")


@attrs.frozen
class _Where:
    """Where a comparison stands: the place (`at`: a Change whose kind, severity and message are still
    blank), and the first word of the kinds of the changes found there ("request", "response" or
    "parameter")."""

    prefix: str
    at: Change

    @classmethod
    def of(cls, prefix: str, direction: Direction, **place: Any) -> _Where:
        return cls(prefix, attrs.evolve(_BLANK, direction=direction, **place))

    @property
    def direction(self) -> Direction:
        assert self.at.direction is not None  # every place is in a request or a response
        return self.at.direction

    def moved(self, **place: Any) -> _Where:
        return attrs.evolve(self, at=attrs.evolve(self.at, **place))

    def child(self, segment: str) -> _Where:
        return self.moved(property=f"{self.at.property}.{segment}" if self.at.property else segment)

    def suffixed(self, suffix: str) -> _Where:
        return self.moved(property=(self.at.property or "") + suffix)

    def change(self, kind: str, severity: Severity, message: str, old: Any, new: Any) -> Change:
        """The Change found here."""
        return attrs.evolve(self.at, kind=kind, severity=severity, message=message, old=old, new=new)


# A component comparison: (direction, old component name, new component name).
_ComponentKey = tuple[Direction, str, str]
_Owner = tuple[str, str] | _ComponentKey  # (METHOD, path) of an operation, or a component


class _Differ:
    def __init__(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        old_names: Mapping[str, str],
        new_names: Mapping[str, str],
    ) -> None:
        self.old = old
        self.new = new
        self.old_names = old_names
        self.new_names = new_names
        self.op_changes: list[Change] = []
        self.component_changes: dict[_ComponentKey, list[Change]] = {}
        self.edges: dict[_Owner, set[_ComponentKey]] = {}
        self.owner: _Owner = ("", "")

    # ---- top level -------------------------------------------------------------------------

    def run(self) -> ApiDiff:
        old_ops, new_ops = _operations(self.old), _operations(self.new)
        added = [new_ops[k] for k in new_ops.keys() - old_ops.keys()]
        removed = [old_ops[k] for k in old_ops.keys() - new_ops.keys()]
        for path, method, _ in sorted(added, key=lambda o: (o[0], o[1])):
            self.op_changes.append(
                Change("operation-added", NB, f"new operation {method} {path}", path=path, method=method)
            )
        for path, method, _ in sorted(removed, key=lambda o: (o[0], o[1])):
            self.op_changes.append(
                Change("operation-removed", B, f"operation {method} {path} removed", path=path, method=method)
            )
        for key in sorted(old_ops.keys() & new_ops.keys()):
            _, _, old_op = old_ops[key]
            path, method, new_op = new_ops[key]
            self.owner = (method, path)
            self._operation(path, method, old_op, new_op)

        users = self._operations_by_component()
        changes = list(self.op_changes)
        for comp, comp_changes in self.component_changes.items():
            ops = tuple(sorted(users.get(comp, ())))
            changes.extend(attrs.evolve(c, operations=ops) for c in comp_changes)
        changes.sort(key=_sort_key)

        # Schemas are matched by their upstream names; "changed" means any difference at all in the
        # definition (descriptions and examples included), the semantic part being in `changes`.
        old_schemas = {self.old_names.get(n, n): body for n, body in _components(self.old).items()}
        new_schemas = {self.new_names.get(n, n): body for n, body in _components(self.new).items()}
        common = old_schemas.keys() & new_schemas.keys()
        return ApiDiff(
            changes=tuple(changes),
            operations_added=tuple(sorted(f"{m} {p}" for p, m, _ in added)),
            operations_removed=tuple(sorted(f"{m} {p}" for p, m, _ in removed)),
            schemas_added=tuple(sorted(new_schemas.keys() - old_schemas.keys())),
            schemas_removed=tuple(sorted(old_schemas.keys() - new_schemas.keys())),
            schemas_changed=tuple(
                sorted(n for n in common if _canonical(old_schemas[n]) != _canonical(new_schemas[n]))
            ),
            old_version=_info_version(self.old),
            new_version=_info_version(self.new),
        )

    def _operations_by_component(self) -> dict[_ComponentKey, set[str]]:
        """Component -> every "METHOD /path" reaching it directly or through other components."""
        users: dict[_ComponentKey, set[str]] = {}
        for owner in self.edges:
            if len(owner) != 2:
                continue
            label = f"{owner[0]} {owner[1]}"
            seen: set[_ComponentKey] = set()
            stack = list(self.edges[owner])
            while stack:
                node = stack.pop()
                if node in seen:
                    continue
                seen.add(node)
                users.setdefault(node, set()).add(label)
                stack.extend(self.edges.get(node, ()))
        return users

    def _emit(self, change: Change) -> None:
        if len(self.owner) == 3:
            self.component_changes.setdefault(self.owner, []).append(change)
        else:
            self.op_changes.append(change)

    # ---- operations ------------------------------------------------------------------------

    def _operation(self, path: str, method: str, old_op: dict[str, Any], new_op: dict[str, Any]) -> None:
        was, now = bool(old_op.get("deprecated")), bool(new_op.get("deprecated"))
        if was != now:
            # Still served either way; worth a line in the CHANGELOG before it disappears.
            self._emit(
                Change(
                    "operation-deprecated" if now else "operation-undeprecated",
                    NB,
                    f"{method} {path} {'is now deprecated' if now else 'is no longer deprecated'}",
                    path=path,
                    method=method,
                    old=was,
                    new=now,
                )
            )
        self._parameters(path, method, old_op["parameters"], new_op["parameters"])
        self._request_body(path, method, old_op.get("requestBody"), new_op.get("requestBody"))
        self._responses(path, method, old_op.get("responses") or {}, new_op.get("responses") or {})

    def _parameters(
        self, path: str, method: str, old: list[dict[str, Any]], new: list[dict[str, Any]]
    ) -> None:
        old_by = {(p.get("name"), p.get("in")): self._deref(self.old, p) for p in old}
        new_by = {(p.get("name"), p.get("in")): self._deref(self.new, p) for p in new}
        gone = {k: v for k, v in old_by.items() if k not in new_by}
        came = {k: v for k, v in new_by.items() if k not in old_by}

        # Same name, other location (query -> header...): one change, not a removal plus an addition.
        def at(name: str | None, location: str | None) -> _Where:
            return _Where.of(
                "parameter", REQ, path=path, method=method, parameter=name, parameter_in=location
            )

        for name, old_in in list(gone):
            moved = [k for k in came if k[0] == name]
            if len(moved) == 1:
                new_in = moved[0][1]
                what = f"parameter {name!r} moved from {old_in} to {new_in}"
                self._on_operation("parameter-location-changed", B, what, at(name, new_in), old_in, new_in)
                del gone[(name, old_in)], came[moved[0]]
        for (name, where), param in sorted(came.items(), key=_param_sort):
            required = bool(param.get("required"))
            what = f"new {'required' if required else 'optional'} {where} parameter {name!r}"
            sev = B if required else NB
            self._on_operation("parameter-added", sev, what, at(name, where), new={"required": required})
        for (name, where), _ in sorted(gone.items(), key=_param_sort):
            self._on_operation("parameter-removed", B, f"{where} parameter {name!r} removed", at(name, where))
        for key in sorted(old_by.keys() & new_by.keys(), key=lambda k: (str(k[0]), str(k[1]))):
            name, where = key
            old_p, new_p = old_by[key], new_by[key]
            old_req, new_req = bool(old_p.get("required")), bool(new_p.get("required"))
            if old_req != new_req:
                kind = "parameter-became-required" if new_req else "parameter-became-optional"
                what = f"{where} parameter {name!r} {'is now required' if new_req else 'is now optional'}"
                self._on_operation(kind, B if new_req else NB, what, at(name, where), old_req, new_req)
            self._schema(_param_schema(old_p), _param_schema(new_p), at(name, where))

    def _request_body(self, path: str, method: str, old: Any, new: Any) -> None:
        old = self._deref(self.old, old) if old else None
        new = self._deref(self.new, new) if new else None
        where = _Where.of("request", REQ, path=path, method=method)
        if old is None and new is None:
            return
        if old is None:
            required = bool(new.get("required"))
            what = f"new {'required' if required else 'optional'} request body"
            self._on_operation("request-body-added", B if required else NB, what, where)
            return
        if new is None:
            self._on_operation("request-body-removed", B, "request body removed", where)
            return
        old_req, new_req = bool(old.get("required")), bool(new.get("required"))
        if old_req != new_req:
            kind = "request-body-became-required" if new_req else "request-body-became-optional"
            what = f"request body is now {'required' if new_req else 'optional'}"
            self._on_operation(kind, B if new_req else NB, what, where, old_req, new_req)
        self._content(old.get("content") or {}, new.get("content") or {}, where)

    def _responses(self, path: str, method: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        old = {str(k): v for k, v in old.items()}
        new = {str(k): v for k, v in new.items()}

        def at(status: str) -> _Where:
            return _Where.of("response", RESP, path=path, method=method, status=status)

        for status in sorted(new.keys() - old.keys()):
            self._on_operation("response-status-added", NB, f"new response status {status}", at(status))
        for status in sorted(old.keys() - new.keys()):
            # A documented success disappearing changes what the client gets back; an error code
            # leaving the documentation does not.
            severity = B if status.startswith("2") else NB
            what = f"response status {status} removed"
            self._on_operation("response-status-removed", severity, what, at(status))
        for status in sorted(old.keys() & new.keys()):
            old_r, new_r = self._deref(self.old, old[status]), self._deref(self.new, new[status])
            self._content(old_r.get("content") or {}, new_r.get("content") or {}, at(status))

    def _content(self, old: dict[str, Any], new: dict[str, Any], where: _Where) -> None:
        d = where.direction
        for media in sorted(new.keys() - old.keys()):
            self._emit(
                self._change(
                    f"{where.prefix}-media-type-added",
                    NB,
                    f"new media type {media}",
                    where.moved(media_type=media),
                )
            )
        for media in sorted(old.keys() - new.keys()):
            self._emit(
                self._change(
                    f"{where.prefix}-media-type-removed",
                    B,
                    f"media type {media} removed",
                    where.moved(media_type=media),
                )
            )
        for media in sorted(old.keys() & new.keys()):
            old_s, new_s = (old[media] or {}).get("schema"), (new[media] or {}).get("schema")
            here = where.moved(media_type=media)
            if old_s is None and new_s is None:
                continue
            if old_s is None or new_s is None:
                # A body that gains a schema is documented more precisely; one that loses it, less.
                sev = _narrows(d) if old_s is None else _widens(d)
                kind = "schema-added" if old_s is None else "schema-removed"
                self._emit(self._change(f"{where.prefix}-{kind}", sev, kind.replace("-", " "), here))
                continue
            self._schema(old_s, new_s, here)

    # ---- schemas ---------------------------------------------------------------------------

    def _schema(self, old: Any, new: Any, where: _Where) -> None:
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        old_ref, new_ref = _component_name(old), _component_name(new)
        if (
            old_ref is not None
            and new_ref is not None
            and old_ref in _components(self.old)
            and new_ref in _components(self.new)
        ):
            self._component(old_ref, new_ref, where)
            return
        old, new = self._effective(self.old, old), self._effective(self.new, new)
        self._compare_schemas(old, new, where)

    def _component(self, old_name: str, new_name: str, where: _Where) -> None:
        key: _ComponentKey = (where.direction, old_name, new_name)
        self.edges.setdefault(self.owner, set()).add(key)
        if key in self.component_changes:  # done, or in progress further up a $ref cycle
            return
        self.component_changes[key] = []
        outer = self.owner
        self.owner = key
        try:
            shown_old, shown_new = (
                self.old_names.get(old_name, old_name),
                self.new_names.get(new_name, new_name),
            )
            here = _Where.of(where.direction.value, where.direction, schema=shown_new)
            if shown_old != shown_new:
                self._emit(
                    self._change(
                        f"{here.prefix}-schema-renamed",
                        NB,
                        f"was {shown_old}",
                        here,
                        old=shown_old,
                        new=shown_new,
                    )
                )
            old = self._effective(self.old, _components(self.old)[old_name])
            new = self._effective(self.new, _components(self.new)[new_name])
            self._compare_schemas(old, new, here)
        finally:
            self.owner = outer

    def _compare_schemas(self, old: dict[str, Any], new: dict[str, Any], where: _Where) -> None:
        d, p = where.direction, where.prefix
        old_t, new_t = _types(old), _types(new)
        if old_t != new_t and old_t and new_t:
            pair = (",".join(sorted(old_t)), ",".join(sorted(new_t)))
            widened = (d is REQ and pair in _WIDER_TYPES) or (
                d is RESP and (pair[1], pair[0]) in _WIDER_TYPES
            )
            sev = NB if widened else B
            self._emit(
                self._change(
                    f"{p}-type-changed", sev, f"type {pair[0]} -> {pair[1]}", where, old=pair[0], new=pair[1]
                )
            )
            return  # what lies under a different type is not comparable
        old_f, new_f = old.get("format"), new.get("format")
        if old_f != new_f:
            # A format is a constraint: adding one narrows, removing one widens, swapping does both.
            if old_f is None:
                sev = _narrows(d)
            elif new_f is None:
                sev = _widens(d)
            else:
                sev = B
            self._emit(
                self._change(
                    f"{p}-format-changed", sev, f"format {old_f} -> {new_f}", where, old=old_f, new=new_f
                )
            )
        old_n, new_n = _nullable(old), _nullable(new)
        if old_n != new_n:
            self._emit(
                self._change(
                    f"{p}-nullable-changed",
                    _widens(d) if new_n else _narrows(d),
                    "now nullable" if new_n else "no longer nullable",
                    where,
                    old=old_n,
                    new=new_n,
                )
            )
        self._enum(old.get("enum"), new.get("enum"), where)
        self._properties(old, new, where)
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            self._schema(old["items"], new["items"], where.suffixed("[]"))
        old_ap, new_ap = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_ap, dict) and isinstance(new_ap, dict):
            self._schema(old_ap, new_ap, where.suffixed("{}"))
        for combiner in ("oneOf", "anyOf"):
            old_c, new_c = old.get(combiner), new.get(combiner)
            if isinstance(old_c, list) and isinstance(new_c, list):
                self._alternatives(combiner, old_c, new_c, where)

    def _enum(self, old: Any, new: Any, where: _Where) -> None:
        d, p = where.direction, where.prefix
        if old == new:
            return
        if old is None or new is None:
            # An enum appearing restricts the values; one disappearing lifts the restriction.
            sev = _narrows(d) if old is None else _widens(d)
            kind = "enum-added" if old is None else "enum-removed"
            self._emit(self._change(f"{p}-{kind}", sev, kind.replace("-", " "), where, old=old, new=new))
            return
        old_v, new_v = [_canonical(v) for v in old], [_canonical(v) for v in new]
        added = [v for v, h in zip(new, new_v, strict=False) if h not in old_v]
        removed = [v for v, h in zip(old, old_v, strict=False) if h not in new_v]
        if added:
            self._emit(
                self._change(
                    f"{p}-enum-values-added",
                    _widens(d),
                    f"enum values added: {', '.join(map(str, added))}",
                    where,
                    new=added,
                )
            )
        if removed:
            self._emit(
                self._change(
                    f"{p}-enum-values-removed",
                    _narrows(d),
                    f"enum values removed: {', '.join(map(str, removed))}",
                    where,
                    old=removed,
                )
            )

    def _properties(self, old: dict[str, Any], new: dict[str, Any], where: _Where) -> None:
        d, p = where.direction, where.prefix
        old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
        old_req, new_req = set(old.get("required") or ()), set(new.get("required") or ())
        # A client never sends a readOnly property and never reads a writeOnly one: changes to
        # them do not concern that direction (udata marks id, created_at, harvest... readOnly).
        hidden = "readOnly" if d is REQ else "writeOnly"
        old_hidden = {n for n, s in old_props.items() if self._effective(self.old, s).get(hidden)}
        new_hidden = {n for n, s in new_props.items() if self._effective(self.new, s).get(hidden)}
        for name in sorted(new_props.keys() - old_props.keys() - new_hidden):
            required = name in new_req
            if d is REQ:
                sev = B if required else NB
                what = f"new {'required' if required else 'optional'} property"
            else:
                sev, what = NB, "new property"
            self._emit(
                self._change(f"{p}-property-added", sev, what, where.child(name), new={"required": required})
            )
        for name in sorted(old_props.keys() - new_props.keys() - old_hidden):
            self._emit(
                self._change(
                    f"{p}-property-removed",
                    B,
                    "property removed",
                    where.child(name),
                    old={"required": name in old_req},
                )
            )
        for name in sorted(old_props.keys() & new_props.keys()):
            here = where.child(name)
            was_hidden, now_hidden = name in old_hidden, name in new_hidden
            if was_hidden or now_hidden:
                if was_hidden != now_hidden:
                    # Becoming readOnly takes an input away from the client; writeOnly, an output.
                    gone = "read-only" if d is REQ else "write-only"
                    back = "writable" if d is REQ else "readable"
                    self._emit(
                        self._change(
                            f"{p}-property-became-{gone if now_hidden else back}",
                            B if now_hidden else NB,
                            f"now {gone if now_hidden else back}",
                            here,
                            old=was_hidden,
                            new=now_hidden,
                        )
                    )
                continue
            was, now = name in old_req, name in new_req
            if was != now:
                # Required narrows what a request may omit; optional widens what a response may omit.
                sev = _narrows(d) if now else _widens(d)
                kind = "property-became-required" if now else "property-became-optional"
                self._emit(
                    self._change(
                        f"{p}-{kind}", sev, "now required" if now else "now optional", here, old=was, new=now
                    )
                )
            self._schema(old_props[name], new_props[name], here)

    def _alternatives(self, combiner: str, old: list[Any], new: list[Any], where: _Where) -> None:
        d, p = where.direction, where.prefix
        if len(new) != len(old):
            wider = len(new) > len(old)
            self._emit(
                self._change(
                    f"{p}-{combiner}-{'widened' if wider else 'narrowed'}",
                    _widens(d) if wider else _narrows(d),
                    f"{combiner} has {len(new)} alternatives instead of {len(old)}",
                    where,
                    old=len(old),
                    new=len(new),
                )
            )
        for i, (o, n) in enumerate(zip(old, new, strict=False)):
            self._schema(o, n, where.suffixed(f"<{combiner}[{i}]>"))

    # ---- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _change(
        kind: str, severity: Severity, what: str, where: _Where, old: Any = None, new: Any = None
    ) -> Change:
        """A change inside a schema or a body: `what` follows a description of `where`."""
        return where.change(kind, severity, f"{_describe(where)}: {what}", old, new)

    def _on_operation(
        self, kind: str, severity: Severity, what: str, where: _Where, old: Any = None, new: Any = None
    ) -> None:
        """Emit a change of an operation's own parameters, body or statuses ("METHOD /path: what")."""
        self._emit(where.change(kind, severity, f"{where.at.method} {where.at.path}: {what}", old, new))

    @staticmethod
    def _deref(doc: Mapping[str, Any], obj: Any) -> Any:
        """Follow local `$ref`s (parameters, responses, request bodies) to the object itself."""
        seen: set[str] = set()
        while isinstance(obj, dict) and isinstance(obj.get("$ref"), str):
            ref = obj["$ref"]
            if ref in seen or not ref.startswith("#/"):
                return {}
            seen.add(ref)
            obj = _pointer(doc, ref)
        return obj if obj is not None else {}

    def _effective(
        self, doc: Mapping[str, Any], schema: Any, merging: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """The schema with `$ref` resolved and `allOf` members merged into one object schema.

        `merging` holds the refs being merged further up, so a schema that includes itself
        through allOf stops there instead of recursing forever.
        """
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if isinstance(ref, str):
            if ref in merging:
                return {}
            merging = merging | {ref}
        schema = self._deref(doc, schema)
        if not isinstance(schema, dict):
            return {}
        members = schema.get("allOf")
        if not isinstance(members, list):
            return schema
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        props: dict[str, Any] = dict(merged.get("properties") or {})
        required: list[str] = list(merged.get("required") or ())
        for member in members:
            part = self._effective(doc, member, merging)
            props.update(part.get("properties") or {})
            required.extend(r for r in part.get("required") or () if r not in required)
            for key, value in part.items():
                if key not in ("properties", "required"):
                    merged.setdefault(key, value)
        if props:
            merged["properties"] = props
            merged.setdefault("type", "object")
        if required:
            merged["required"] = required
        return merged


# ---- document helpers --------------------------------------------------------------------------


def _operations(doc: Mapping[str, Any]) -> dict[tuple[str, str], tuple[str, str, dict[str, Any]]]:
    """(template, METHOD) -> (path verbatim, METHOD, operation with path-level parameters merged)."""
    found: dict[tuple[str, str], tuple[str, str, dict[str, Any]]] = {}
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            own = op.get("parameters") or []
            own_keys = {(p.get("name"), p.get("in")) for p in own if isinstance(p, dict)}
            params = [
                p for p in shared if isinstance(p, dict) and (p.get("name"), p.get("in")) not in own_keys
            ]
            params += [p for p in own if isinstance(p, dict)]
            found[(_template(path), method.upper())] = (path, method.upper(), {**op, "parameters": params})
    return found


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _components(doc: Mapping[str, Any]) -> dict[str, Any]:
    schemas = (doc.get("components") or {}).get("schemas") or {}
    return schemas if isinstance(schemas, dict) else {}


def _component_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_SCHEMA_REF):
        return _unescape(ref[len(_SCHEMA_REF) :])
    return None


def _pointer(doc: Mapping[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref[2:].split("/"):
        if not isinstance(node, dict):
            return None
        node = node.get(_unescape(part))
    return node


def _unescape(part: str) -> str:
    return unquote(part).replace("~1", "/").replace("~0", "~")


def _param_schema(param: dict[str, Any]) -> dict[str, Any]:
    schema = param.get("schema")
    if isinstance(schema, dict):
        return schema
    for content in (param.get("content") or {}).values():
        if isinstance(content, dict) and isinstance(content.get("schema"), dict):
            return dict(content["schema"])
    return {}


def _types(schema: dict[str, Any]) -> frozenset[str]:
    t = schema.get("type")
    if isinstance(t, list):  # OpenAPI 3.1: nullability lives in the type list
        return frozenset(str(x) for x in t if x != "null")
    if isinstance(t, str):
        return frozenset((t,))
    if "properties" in schema:
        return frozenset(("object",))
    return frozenset()


def _nullable(schema: dict[str, Any]) -> bool:
    t = schema.get("type")
    return bool(schema.get("nullable") or schema.get("x-nullable") or (isinstance(t, list) and "null" in t))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _info_version(doc: Mapping[str, Any]) -> str | None:
    version = (doc.get("info") or {}).get("version")
    return None if version is None else str(version)


def _describe(where: _Where) -> str:
    at = where.at
    parts: list[str] = []
    if at.schema:
        parts.append(where.direction.value)
        parts.append(at.schema + (f".{at.property}" if at.property else ""))
    else:
        if at.method and at.path:
            parts.append(f"{at.method} {at.path}")
        if at.parameter:
            parts.append(f"{at.parameter_in} parameter {at.parameter!r}")
        elif at.status:
            parts.append(f"response {at.status}")
        elif at.direction is REQ:
            parts.append("request body")
        if at.property:
            parts.append(at.property)
    return " ".join(parts)


def _param_sort(item: tuple[tuple[Any, Any], Any]) -> tuple[str, str]:
    (name, where), _ = item
    return (str(where), str(name))


def _sort_key(change: Change) -> tuple[str, ...]:
    return (
        change.path or "",
        change.method or "",
        change.schema or "",
        change.direction or "",
        change.parameter or "",
        change.status or "",
        change.property or "",
        change.kind,
    )
