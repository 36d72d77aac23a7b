"""datagouv_sdk.operations: every generated operation found by id, its arguments given as text."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from datagouv_sdk import errors
from datagouv_sdk.operations import catalogue, convert, find

ROOT = Path(__file__).resolve().parents[1]
LOCK_NAMES = {"main": "main", "main_v2": "main-v2", "metrics": "metrics", "tabular": "tabular"}


def test_the_catalogue_has_every_operation_the_lock_counts() -> None:
    lock = json.loads((ROOT / "specs" / "lock.json").read_text())["apis"]
    for api, name in LOCK_NAMES.items():
        assert len(catalogue(api)) == lock[name]["counts"]["operations"], api
    assert len({op.ref for op in catalogue()}) == len(catalogue())


def test_every_operation_is_found_and_describes_its_parameters() -> None:
    for op in catalogue():
        assert find(op.ref) == op
        assert op.method in {"GET", "POST", "PUT", "PATCH", "DELETE"} and op.path.startswith("/")
        parameters = op.parameters()
        placeholders = op.path.count("{")
        assert [p for p in parameters if p.kind == "path"].__len__() == placeholders, op


def test_ids_in_both_main_versions_mean_v1_and_others_must_be_qualified() -> None:
    assert find("list_datasets").ref == "main:list_datasets"
    assert find("v2:list_datasets").ref == "main_v2:list_datasets"
    assert find("search_datasets").ref == "main_v2:search_datasets"  # only in v2
    with pytest.raises(errors.UsageError, match="metrics:get_health, tabular:get_health"):
        find("get_health")
    assert find("tabular:get_health").api == "tabular"


def test_unknown_operations_suggest_close_names() -> None:
    with pytest.raises(errors.UsageError, match="did you mean: list_datasets"):
        find("list_dataset")
    with pytest.raises(errors.UsageError, match="unknown API 'v3'"):
        find("v3:list_datasets")
    with pytest.raises(errors.UsageError, match="--list"):
        find("zzz_nothing_like_it")


def test_arguments_are_converted_as_the_generated_function_types_them() -> None:
    op = find("list_datasets")
    args, kwargs = op.arguments(
        {
            "page-size": ["5"],
            "tag": ["a", "b"],
            "X-Fields": ["id,title"],
            "license": ["odc-odbl"],
            "featured": ["true"],
            "sort": ["-created"],
        }
    )
    assert args == ()
    assert kwargs == {
        "page_size": 5,
        "tag": ["a", "b"],
        "x_fields": "id,title",
        "license_": "odc-odbl",
        "featured": True,
        "sort": "-created",
    }
    get = find("main:get_dataset")
    assert get.arguments({"dataset": ["abc"]}) == (("abc",), {})
    header = {p.name: p.api_name for p in get.parameters() if p.kind == "header"}
    assert header == {"x_fields": "X-Fields"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page_size": ["x"]}, "not an integer"),
        ({"sort": ["most-popular"]}, "expected one of"),
        ({"featured": ["perhaps"]}, "not a boolean"),
        ({"page_size": ["1", "2"]}, "takes one value"),
        ({"colour": ["red"]}, "has no parameter 'colour'; it accepts: "),
    ],
)
def test_bad_arguments_name_what_is_accepted(params: dict[str, list[str]], message: str) -> None:
    with pytest.raises(errors.UsageError, match=message):
        find("list_datasets").arguments(params)


def test_missing_path_parameters() -> None:
    with pytest.raises(errors.UsageError, match=r"needs: dataset, rid"):
        find("main:get_resource").arguments({})


def test_dates_and_numbers() -> None:
    assert convert("when", dt.datetime, ["2024-05-01T10:00:00"]) == dt.datetime(2024, 5, 1, 10)
    assert convert("day", dt.date, ["2024-05-01"]) == dt.date(2024, 5, 1)
    assert convert("ratio", float, ["0.5"]) == 0.5
    assert convert("either", int | str, ["x"]) == "x"
    with pytest.raises(errors.UsageError, match="YYYY-MM-DD"):
        convert("day", dt.date, ["May 1st"])
