"""Turn one DNS answer into clean / listed / error for a (target, list) pair.

The rules (issue 3, docs/architecture.md "The exporter contract"), in the order they apply:
- no usable answer (timeout after retries, SERVFAIL, REFUSED, network error) -> error;
- NXDOMAIN -> clean;  NOERROR without A records -> clean (the name exists but lists nothing);
- any A record that is an error code (127.255.255.252/.254/.255, 127.0.1.255, 127.0.0.1, the
  profile's own) or lies outside 127.0.0.0/8 -> error: the whole answer is discarded, never listed;
- otherwise every A record must be a code the profile knows -> listed with their categories
  (all records count, sorted so results are stable); a code the profile does not know makes the
  answer an error too, because we cannot say what it means.  A profile without a code table (a
  custom list) accepts every other 127.0.0.0/8 code as "listed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from . import dnswire
from .lists.profile import GLOBAL_ERROR_CODES, ListProfile
from .resolver import Answer

Status = Literal["clean", "listed", "error"]


@dataclass
class Classification:
    status: Status
    codes: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    error: str = ""


def _ip_key(a: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in a.split("."))
    except ValueError:
        return (999,)


def classify(answer: Answer, profile: ListProfile, codes: dict[str, str] | None = None) -> Classification:
    """``codes`` overrides the profile's code table (config ``return_codes``)."""
    if answer.rcode is None or answer.error:
        return Classification("error", error=answer.error or "no answer")
    if answer.rcode == dnswire.RCODE_NXDOMAIN:
        return Classification("clean")
    if answer.rcode != dnswire.RCODE_NOERROR:
        return Classification("error", error=dnswire.RCODE_NAMES.get(answer.rcode, f"RCODE{answer.rcode}"))
    addrs = sorted(set(answer.addresses), key=_ip_key)
    if not addrs:
        return Classification("clean")
    table = profile.codes if codes is None else codes
    for a in addrs:
        why = profile.error_codes.get(a) or GLOBAL_ERROR_CODES.get(a)
        if why:
            return Classification("error", codes=addrs, error=f"error code {a}: {why}")
        # Addresses come from the wire decoder as canonical dotted quads: a prefix test suffices.
        if not a.startswith("127."):
            return Classification(
                "error", codes=addrs, error=f"answer {a} is outside 127.0.0.0/8 (resolver hijacking NXDOMAIN?)"
            )
    if table:
        unknown = [a for a in addrs if a not in table]
        if unknown:
            return Classification(
                "error", codes=addrs, error=f"return code {', '.join(unknown)} is not in the list's profile"
            )
        cats = sorted({table[a] for a in addrs})
    else:
        cats = ["listed"]
    return Classification("listed", codes=addrs, categories=cats)
