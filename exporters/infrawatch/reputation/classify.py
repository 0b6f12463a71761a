"""Turn one DNS answer into clean / listed / error for a (target, list) pair.

The rules (issue 3, issue 14, docs/architecture.md "The exporter contract"), in the order they apply:
- no usable answer (timeout after retries, SERVFAIL, REFUSED, a truncated reply whose TCP retry
  failed, a garbled reply, network error) -> error;
- NXDOMAIN -> clean;  NOERROR without A records -> clean (the name exists but lists nothing);
- any A record that is an error code (127.255.255.252/.254/.255, 127.0.1.255, 127.0.0.1, the
  profile's own) or lies outside 127.0.0.0/8 -> error: the whole answer is discarded, never listed;
- otherwise every A record must decode to categories (the profile's code table, or its bitmask:
  every combination of bits) -> listed with their categories (all records count, sorted so results
  are stable); a code the profile cannot decode makes the answer an error too, because we cannot
  say what it means.  A profile without a code table (a custom list) accepts every other
  127.0.0.0/8 code as "listed".

Every error carries a ``reason`` from ``REASONS`` (a bounded label value) besides its message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from . import dnswire
from .lists.profile import GLOBAL_ERROR_CODES, GLOBAL_ERROR_REASONS, ListProfile
from .resolver import REASONS as RESOLVER_REASONS
from .resolver import Answer

Status = Literal["clean", "listed", "error"]

# Every reason an unknown answer can have: reputation_lookup_error{reason}, the page, the API.
REASONS: dict[str, str] = {
    **RESOLVER_REASONS,
    "blocked_resolver": "the list refuses our resolver (Spamhaus 127.255.255.254: public resolver; URIBL 127.0.0.1)",
    "rate_limited": "the list says we sent too many queries (Spamhaus 127.255.255.255)",
    "bad_key": "typing error in the zone name or an invalid DQS key (Spamhaus 127.255.255.252)",
    "bad_query": "the list does not answer this kind of query (Spamhaus DBL 127.0.1.255: IP queries)",
    "error_code": "another code the list uses for a failed query (e.g. 127.0.0.1)",
    "hijacked": "an answer outside 127.0.0.0/8: a resolver rewriting NXDOMAIN",
    "unknown_code": "a return code the list's profile does not define",
    "list_down": "the list failed its own test points this cycle, so its answers do not count",
}


@dataclass
class Classification:
    status: Status
    codes: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    error: str = ""
    reason: str = ""  # one of REASONS when status is "error"


def _ip_key(a: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in a.split("."))
    except ValueError:
        return (999,)


def classify(answer: Answer, profile: ListProfile, codes: dict[str, str] | None = None) -> Classification:
    """``codes`` overrides the profile's code table (config ``return_codes``)."""
    if answer.rcode is None or answer.error:
        return Classification("error", error=answer.error or "no answer", reason=answer.reason or "timeout")
    if answer.rcode == dnswire.RCODE_NXDOMAIN:
        return Classification("clean")
    if answer.rcode != dnswire.RCODE_NOERROR:
        return Classification(
            "error", error=dnswire.RCODE_NAMES.get(answer.rcode, f"RCODE{answer.rcode}"), reason="rcode"
        )
    addrs = sorted(set(answer.addresses), key=_ip_key)
    if not addrs:
        return Classification("clean")
    for a in addrs:
        why = profile.error_codes.get(a) or GLOBAL_ERROR_CODES.get(a)
        if why:
            reason = profile.error_reasons.get(a) or GLOBAL_ERROR_REASONS.get(a) or "error_code"
            return Classification("error", codes=addrs, error=f"error code {a}: {why}", reason=reason)
        # Addresses come from the wire decoder as canonical dotted quads: a prefix test suffices.
        if not a.startswith("127."):
            return Classification(
                "error",
                codes=addrs,
                error=f"answer {a} is outside 127.0.0.0/8 (resolver hijacking NXDOMAIN?)",
                reason="hijacked",
            )
    cats: set[str] = set()
    unknown = []
    for a in addrs:
        decoded = profile.decode(a, codes)
        if decoded is None:
            unknown.append(a)
        else:
            cats.update(decoded)
    if unknown:
        return Classification(
            "error",
            codes=addrs,
            error=f"return code {', '.join(unknown)} is not in the list's profile",
            reason="unknown_code",
        )
    return Classification("listed", codes=addrs, categories=sorted(cats))


def code_category(code: str, profile: ListProfile, codes: dict[str, str] | None = None) -> str:
    """The ``category`` label of one listing code (bitmask combinations joined with '+')."""
    decoded = profile.decode(code, codes)
    return "+".join(decoded) if decoded else "listed"
