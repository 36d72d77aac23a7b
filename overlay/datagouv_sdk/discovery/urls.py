"""Which third-party URLs may be contacted: http(s) only, plain http only to loopback unless opted in."""

from __future__ import annotations

import ipaddress

import httpx

from datagouv_sdk.discovery.errors import UnsafeURLError

__all__ = ["check_url", "is_loopback_host", "same_origin"]


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and the name `localhost` (which resolves to them)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str | httpx.URL, *, allow_insecure_http: bool = False) -> httpx.URL:
    """The parsed URL, or UnsafeURLError when it may not be contacted."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeURLError(f"not a valid URL ({exc})", url=str(url)) from exc
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURLError("only http(s) URLs are fetched", url=str(url))
    if not parsed.host:
        raise UnsafeURLError("the URL has no host", url=str(url))
    if parsed.scheme == "http" and not allow_insecure_http and not is_loopback_host(parsed.host):
        raise UnsafeURLError(
            "plain http is only used for loopback hosts (pass allow_insecure_http=True to accept it)",
            url=str(url),
        )
    return parsed


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    """Same scheme, host and port: credentials may follow a redirect only within one origin."""
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)
