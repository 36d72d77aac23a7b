"""Which third-party URLs may be contacted.

A document or a catalog entry is a third party's word: it may name the user's own machine, their
network, or a host that is only a placeholder (`https://IP-GATEWAY/...`, `https://to-be-defined/...`,
`http://localhost:81` are all in real documents). So:

- http(s) only, and a host;
- hosts that are not public — loopback, private, link-local, unspecified or multicast addresses,
  `localhost`, `*.local`/`*.internal`-style names, single-label names, example/test/invalid domains,
  names with an unresolved `{variable}` — are refused unless the caller allows them
  (`allow_private=True`, which `allow_private_hosts=` limits and `base_url=` give);
- plain http only to an allowed loopback host, or with `allow_insecure_http=True`.

Names are judged as written: a public name that resolves to a private address is not detected
(that would take a DNS lookup before every connection).
"""

from __future__ import annotations

import ipaddress
import re

import httpx

from datagouv_sdk.discovery.errors import UnsafeURLError

__all__ = ["check_url", "host_kind", "is_loopback_host", "same_origin"]

# Domains reserved for documentation and testing (RFC 2606, RFC 6761) or for local networks.
_PLACEHOLDER_SUFFIXES = (".example", ".invalid", ".test", ".example.com", ".example.org", ".example.net")
_PLACEHOLDER_NAMES = ("example.com", "example.org", "example.net")
_LOCAL_SUFFIXES = (".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp", ".localdomain")
# Top-level domains a public API is found under: every two-letter one (country codes) and these
# generic ones. A name under anything else (`vimpfip-piom1.dgfip`, in a real document) is an
# intranet name: refused like a private address (the caller can still pass base_url=).
_GENERIC_TLDS = frozenset(
    re.findall(
        r"[a-z]+",
        """
    com org net edu gov mil int info biz name pro mobi asia tel travel jobs museum aero coop cat
    post xxx app dev io ai cloud tech online site website web digital data api network systems
    services solutions software computer technology host hosting server email link click page blog
    news media press global world international center centre city town region paris bzh alsace
    corsica brussels berlin london nyc tokyo amsterdam wien swiss quebec eus gal scot wales cymru
    africa lat health care doctor hospital science education school academy university college
    institute energy green eco earth bio farm agency company group business consulting management
    partners finance bank insurance money fund capital market shop store sale social community
    foundation ngo ong charity gratis free
        """,
    )
)


def host_kind(host: str) -> str:
    """ "public", or why the host is not: "loopback", "private", "link-local", "unspecified",
    "placeholder", "unresolved variable", "local name"."""
    host = host.strip("[]").lower().rstrip(".")
    if "{" in host or "}" in host:
        return "unresolved variable"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_loopback:
            return "loopback"
        if address.is_link_local:
            return "link-local"
        if address.is_unspecified:
            return "unspecified"
        if address.is_private or address.is_reserved or address.is_multicast or not address.is_global:
            return "private"
        return "public"
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback"
    if host in _PLACEHOLDER_NAMES or host.endswith(_PLACEHOLDER_SUFFIXES):
        return "placeholder"
    if host.endswith(_LOCAL_SUFFIXES):
        return "local name"
    if "." not in host or not re.fullmatch(r"[a-z0-9.-]+", host):
        return "placeholder"  # IP-GATEWAY, to-be-defined, a bare intranet name: no public host
    tld = host.rsplit(".", 1)[-1]
    if not (re.fullmatch(r"[a-z]{2}", tld) or tld in _GENERIC_TLDS or tld.startswith("xn--")):
        return "local name"
    return "public"


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and the name `localhost` (which resolves to them)."""
    return host_kind(host) == "loopback"


def check_url(
    url: str | httpx.URL, *, allow_insecure_http: bool = False, allow_private: bool = False
) -> httpx.URL:
    """The parsed URL, or UnsafeURLError saying why it may not be contacted."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeURLError(f"not a valid URL ({exc})", url=str(url)) from exc
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURLError("only http(s) URLs are contacted", url=str(url))
    if not parsed.host:
        raise UnsafeURLError("the URL has no host", url=str(url))
    kind = host_kind(parsed.host)
    if kind != "public" and not allow_private:
        raise UnsafeURLError(
            f"{parsed.host} is a {kind} host, not a public one; pass base_url= to call it yourself, "
            "or allow_private_hosts=True",
            url=str(url),
        )
    if parsed.scheme == "http" and not allow_insecure_http and not (kind == "loopback" and allow_private):
        raise UnsafeURLError(
            "plain http is only used for loopback hosts you allowed (pass allow_insecure_http=True to accept it)",
            url=str(url),
        )
    return parsed


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    """Same scheme, host and port: credentials may follow a redirect only within one origin."""
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)
