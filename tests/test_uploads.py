"""Resource uploads against the real udata peer (its local file storage serves the files back)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from datagouv_sdk import AsyncDataGouv, DataGouv, errors
from datagouv_sdk.uploads import UploadEvent, aupload_resource, upload_resource


@pytest.fixture
def dataset(dg: DataGouv) -> Iterator[str]:
    ident: str = dg.datasets.create({"title": "uploads", "description": "test_uploads"}, raw=True)["id"]
    yield ident
    dg.datasets.delete(ident)


def _csv(tmp_path: Path, name: str, rows: int) -> Path:
    path = tmp_path / name
    path.write_text("n,square\n" + "".join(f"{i},{i * i}\n" for i in range(rows)))
    return path


def _served(resource: dict[str, Any], udata_peer: Any) -> bytes:
    assert resource["url"].startswith(udata_peer.base_url + "/"), resource["url"]  # loopback only
    return httpx.get(resource["url"], timeout=10).content


def test_small_file_in_one_request(dg: DataGouv, dataset: str, tmp_path: Path, udata_peer: Any) -> None:
    path = _csv(tmp_path, "small.csv", 3)
    calls: list[tuple[int, int]] = []
    resource = upload_resource(dg, dataset, path, progress=lambda s, t: calls.append((s, t)))
    assert resource["title"] == "small.csv" and resource["filetype"] == "file"
    assert resource["filesize"] == path.stat().st_size and calls == [(path.stat().st_size,) * 2]
    assert resource["checksum"]["value"] == hashlib.sha1(path.read_bytes()).hexdigest()
    assert _served(resource, udata_peer) == path.read_bytes()
    assert resource["id"] in [r["id"] for r in dg.resources.list(dataset, raw=True)]


def test_chunked_upload_reassembles_the_file(
    dg: DataGouv, dataset: str, tmp_path: Path, udata_peer: Any
) -> None:
    path = _csv(tmp_path, "big.csv", 4000)  # ~45 kB in 10 kB parts → 5 parts, the last one short
    size = path.stat().st_size
    calls: list[tuple[int, int]] = []
    resource = upload_resource(
        dg, dataset, path, chunk_size=10_000, progress=lambda s, t: calls.append((s, t))
    )
    assert [s for s, _ in calls] == [min(10_000 * (i + 1), size) for i in range(-(-size // 10_000))]
    assert resource["filesize"] == size and resource["title"] == "big.csv"
    assert resource["checksum"]["value"] == hashlib.sha1(path.read_bytes()).hexdigest()
    assert _served(resource, udata_peer) == path.read_bytes()


def test_replace_a_resource_file(dg: DataGouv, dataset: str, tmp_path: Path, udata_peer: Any) -> None:
    first = dg.resources.upload(dataset, _csv(tmp_path, "v1.csv", 10))
    newer = _csv(tmp_path, "v2.csv", 500)
    replaced = dg.resources.upload(dataset, newer, resource=first["id"], chunk_size=2048)
    assert replaced["id"] == first["id"] and replaced["filesize"] == newer.stat().st_size
    assert _served(replaced, udata_peer) == newer.read_bytes()
    assert len(list(dg.resources.list(dataset, raw=True))) == 1


def test_upload_errors(dg: DataGouv, dataset: str, tmp_path: Path, udata_peer: Any) -> None:
    path = _csv(tmp_path, "x.csv", 1)
    with pytest.raises(errors.NotFoundError):
        upload_resource(dg, "no-such-dataset", path)
    with (
        DataGouv(base_url=udata_peer.base_url, api_key=None) as anon,
        pytest.raises(errors.AuthenticationError),
    ):
        upload_resource(anon, dataset, path)
    with pytest.raises(errors.UsageError, match="not a file"):
        upload_resource(dg, dataset, tmp_path / "missing.csv")
    with pytest.raises(errors.UsageError, match="chunk_size"):
        upload_resource(dg, dataset, path, chunk_size=0)


async def test_async_upload_chunked_and_single(dataset: str, tmp_path: Path, udata_peer: Any) -> None:
    # Two names: udata keeps one file of a name per dataset and second (the second would wait a second).
    paths = [_csv(tmp_path, "async-chunked.csv", 1000), _csv(tmp_path, "async-single.csv", 1000)]
    async with AsyncDataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as adg:
        chunked = await aupload_resource(adg, dataset, paths[0], chunk_size=4096)
        single = await adg.resources.upload(dataset, paths[1])
    for resource, path in zip((chunked, single), paths, strict=False):
        assert resource["filesize"] == path.stat().st_size
        assert _served(resource, udata_peer) == path.read_bytes()


def test_same_name_twice_in_one_second_both_land(dg: DataGouv, dataset: str, tmp_path: Path) -> None:
    # udata stores files at <slug>/<UTC second>/<name> without overwrite: the second upload of a name
    # in the same second answers 500 (FileExists). Not a duplicate: it is re-sent a second later.
    path = _csv(tmp_path, "twice.csv", 5)
    events: list[UploadEvent] = []
    time.sleep(1.02 - time.time() % 1)  # start both at the beginning of a second (~30 ms each)
    first = upload_resource(dg, dataset, path)
    second = upload_resource(dg, dataset, path, on_event=events.append)
    assert first["id"] != second["id"] and first["url"] != second["url"]
    assert {r["id"] for r in dg.resources.list(dataset, raw=True)} == {first["id"], second["id"]}
    assert [e.kind for e in events] == ["retry"] and "status 500" in events[0].message


@pytest.mark.parametrize("chunk_size", [None, 1000])
def test_names_with_quotes_and_accents(
    dg: DataGouv, dataset: str, tmp_path: Path, udata_peer: Any, chunk_size: int | None
) -> None:
    path = _csv(tmp_path, "x.csv", 300)
    name = 'Qualité "de l\'air" été.csv'  # quoted in the part header, raw in the chunked form field
    resource = upload_resource(dg, dataset, path, filename=name, chunk_size=chunk_size)
    assert resource["title"] == "qualite-de-lair-ete.csv"  # udata's own normalisation of the name
    assert _served(resource, udata_peer) == path.read_bytes()
