"""What the catalog (udata 17.18) says about a dataservice that matters for calling it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["DataserviceInfo"]


@attrs.frozen
class DataserviceInfo:
    id: str
    title: str
    slug: str | None = None
    description: str | None = attrs.field(default=None, repr=False)
    base_api_url: str | None = None
    machine_documentation_url: str | None = None
    technical_documentation_url: str | None = None
    business_documentation_url: str | None = None
    format: str | None = None  # REST, WMS, WSL
    # open, open_with_account, restricted; with the reason and where to ask for access
    access_type: str | None = None
    access_type_reason: str | None = None
    authorization_request_url: str | None = None
    access_audiences: tuple[dict[str, Any], ...] = ()
    rate_limiting: str | None = None
    rate_limiting_url: str | None = None
    availability: float | None = None
    availability_url: str | None = None
    license: str | None = None
    organization: str | None = None  # name (or id) of the publishing organization
    owner: str | None = None
    tags: tuple[str, ...] = ()
    datasets_total: int | None = None  # how many datasets the API serves (listed by `datasets()`)
    private: bool = False
    archived_at: str | None = None
    deleted_at: str | None = None
    self_web_url: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> DataserviceInfo:
        """From the Main API's JSON (v1 `Dataservice (read)`, or a v2 search hit)."""
        org = data.get("organization")
        owner = data.get("owner")
        datasets = data.get("datasets")
        total: Any = (
            datasets.get("total")
            if isinstance(datasets, Mapping)
            else len(datasets)
            if isinstance(datasets, list)
            else None
        )
        availability = data.get("availability")
        return cls(
            id=str(data.get("id") or ""),
            title=str(data.get("title") or ""),
            slug=_s(data.get("slug")),
            description=_s(data.get("description")),
            base_api_url=_s(data.get("base_api_url")),
            machine_documentation_url=_s(data.get("machine_documentation_url")),
            technical_documentation_url=_s(data.get("technical_documentation_url")),
            business_documentation_url=_s(data.get("business_documentation_url")),
            format=_s(data.get("format")),
            access_type=_s(data.get("access_type")),
            access_type_reason=_s(data.get("access_type_reason")),
            authorization_request_url=_s(data.get("authorization_request_url")),
            access_audiences=tuple(a for a in data.get("access_audiences") or () if isinstance(a, dict)),
            rate_limiting=_s(data.get("rate_limiting")),
            rate_limiting_url=_s(data.get("rate_limiting_url")),
            availability=float(availability) if isinstance(availability, (int, float)) else None,
            availability_url=_s(data.get("availability_url")),
            license=_s(data.get("license")),
            organization=_s(org.get("name") or org.get("id")) if isinstance(org, Mapping) else _s(org),
            owner=_s(_user_name(owner)) if isinstance(owner, Mapping) else _s(owner),
            tags=tuple(str(t) for t in data.get("tags") or ()),
            datasets_total=total if isinstance(total, int) else None,
            private=bool(data.get("private", False)),
            archived_at=_s(data.get("archived_at")),
            deleted_at=_s(data.get("deleted_at")),
            self_web_url=_s(data.get("self_web_url")),
            raw=dict(data),
        )

    @property
    def needs_authorization(self) -> bool:
        """True when calling the API needs an account or an access request (not `open`)."""
        return self.access_type not in (None, "open")

    def summary(self) -> dict[str, Any]:
        """The fields shown by `dgv dataservices show` (JSON-ready, without the raw payload)."""
        out = attrs.asdict(self, recurse=True, filter=lambda a, _v: a.name not in ("raw", "description"))
        out["access_audiences"] = list(self.access_audiences)
        out["tags"] = list(self.tags)
        return out


def _user_name(owner: Mapping[str, Any]) -> Any:
    names = " ".join(str(owner[k]) for k in ("first_name", "last_name") if owner.get(k))
    return names or owner.get("slug") or owner.get("id")


def _s(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
