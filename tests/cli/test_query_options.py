"""The query the dgv tabular/metrics options build, without a server."""

from __future__ import annotations

import pytest
from datagouv_sdk.cli.query_options import build_query


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("nom,population", ("nom", "population")),
        ("nom, population ,", ("nom", "population")),
        ('nom,"lat,lon"', ("nom", "lat,lon")),  # a real column name with a comma
        ('"#Code_commune_INSEE", "prix ""ttc"""', ("#Code_commune_INSEE", 'prix "ttc"')),
    ],
)
def test_columns_are_one_csv_record(text: str, names: tuple[str, ...]) -> None:
    assert build_query([], None, columns=text).selected == names
