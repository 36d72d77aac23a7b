"""Schema rules that the seeded peer cannot show: the 0.4.1 aggregation-exceptions shape, indexed
resources with aggregation, CSV cell conversion."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from datagouv_sdk.errors import ResponseDecodeError, UsageError
from datagouv_sdk.query import AggregationPolicy, Query, ResourceSchema, col, convert_value

RID = "aaaaaaaa-9999-bbbb-1010-cccccccccccc"


def profile(indexes: list[str] | None = None) -> dict[str, Any]:
    columns = {"code": "string", "label": "string", "value": "int"}
    return {
        "profile": {"header": list(columns), "columns": {c: {"python_type": t} for c, t in columns.items()}},
        "indexes": indexes,
        "deleted_at": None,
        "dataset_id": "x",
    }


@pytest.mark.parametrize(
    ("body", "allowed", "refused"),
    [
        ([RID], [RID], ["other"]),  # 0.3.1: a bare array
        ({"allowed": False, "exceptions": [RID]}, [RID], ["other"]),  # 0.4.1
        ({"allowed": True, "exceptions": []}, [RID, "other"], []),
        ({"exceptions": None}, [], [RID]),
    ],
)
def test_aggregation_policy_both_shapes(body: Any, allowed: list[str], refused: list[str]) -> None:
    policy = AggregationPolicy.from_body(body)
    assert all(policy.allows(r) for r in allowed)
    assert not any(policy.allows(r) for r in refused)


def test_aggregation_policy_rejects_other_bodies() -> None:
    with pytest.raises(ResponseDecodeError, match="expected a list of resource ids or an object"):
        AggregationPolicy.from_body("nope")


def test_indexed_resource_aggregates_only_on_indexes() -> None:
    schema = ResourceSchema.from_profile(RID, profile(["code", "label"]), aggregation_allowed=True)
    schema.validate(Query().groupby("code").aggregate(label="count"))
    with pytest.raises(UsageError, match="aggregates only on its indexed columns: code, label"):
        schema.validate(Query().groupby("code").aggregate(value="sum"))
    schema.validate(Query().filter(col("value") >= 3))  # filters are not restricted to indexes


def test_unindexed_resource_with_aggregation() -> None:
    schema = ResourceSchema.from_profile(RID, profile(), aggregation_allowed=True)
    assert schema.columns["value"].aggregates == ("groupby", "count", "avg", "min", "max", "sum")
    assert list(schema.columns) == ["__id", "code", "label", "value"]


def test_profile_without_columns_is_a_decode_error() -> None:
    with pytest.raises(ResponseDecodeError, match="no 'columns'"):
        ResourceSchema.from_profile(RID, {"profile": {}})


@pytest.mark.parametrize(
    ("python_type", "cell", "expected"),
    [
        ("int", "-13", -13),
        ("float", "2.5", 2.5),
        ("bool", "t", True),
        ("bool", "f", False),
        ("bool", "false", False),
        ("date", "2020-02-01", dt.date(2020, 2, 1)),
        ("datetime", "2021-06-01 08:30:00", dt.datetime(2021, 6, 1, 8, 30)),  # CSV form
        ("datetime", "2021-06-01T08:30:00", dt.datetime(2021, 6, 1, 8, 30)),  # JSON form
        ("json", '{"i": 1}', {"i": 1}),
        ("string", "", None),  # PostgREST writes NULL as an empty cell
        ("int", 7, 7),  # JSON values pass through
    ],
)
def test_convert_value(python_type: str, cell: Any, expected: Any) -> None:
    assert convert_value(python_type, cell) == expected


def test_convert_value_names_the_column_on_bad_data() -> None:
    with pytest.raises(ResponseDecodeError, match="column 'n': cannot read 'x' as int"):
        convert_value("int", "x", column="n")
