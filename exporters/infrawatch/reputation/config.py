"""Configuration schema of the reputation exporter (see docs/configuration.md#reputation).

Loading resolves every list to a ``ListSpec`` (built-in profile + overrides + DQS zone) and every
target entry to concrete ``Target`` addresses/domains (CIDRs expanded up to a cap), so the engine
never sees anything it would have to validate again.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..core.config import (
    ConfigError,
    Context,
    Duration,
    DurationOrZero,
    KeyPath,
    Problem,
    Secret,
    from_yaml,
    load_yaml_file,
    required,
)
from ..core.hostport import HostPortError, split_host_port
from ..core.labels import LABEL_NAME as _LABEL_RE
from .lists import PROFILES, ListProfile, closed_reason
from .names import normalize_ip, to_ascii_domain

_ZONE_RE = re.compile(r"^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
RESERVED_LABELS = {
    "target",
    "list",
    "kind",
    "provider",
    "pool",
    "code",
    "category",
    "status",
    "zone",
    "tier",
    "instance",
    "job",
    "host",
}


def _parse_hostport(value: str) -> tuple[str, int] | None:
    """A nameserver: ``ip[:port]``, ``[v6]:port`` or a bare IPv6 address (port 53).

    An IP address, not a name: a resolver found through DNS cannot be the one DNS is asked through.
    """
    try:
        host, port = split_host_port(value, 53)
        ipaddress.ip_address(host)
    except (HostPortError, ValueError):
        return None
    return (host, port) if host and 0 < port < 65536 else None


@dataclass
class ResolverConfig:
    nameservers: list[str] = field(default_factory=lambda: ["127.0.0.1:53"])
    timeout: Duration = Duration(2)
    retries: int = 2
    # In-flight queries.  rbldnsd (a common local DNSBL mirror) sets its own UDP receive buffer to
    # 128 KiB, which holds ~150 small queries: 128 in flight overflowed it whenever rbldnsd was
    # descheduled for a moment (bench/dnsbl_throughput: its drops matched our timeouts one for one),
    # while 64 loses nothing and is as fast on loopback.
    concurrency: int = 64
    # Floor of the adaptive retransmission timeout (resolver.py); >= timeout turns adaptation off.
    min_timeout: Duration = Duration(0.25)

    def validate(self, ctx: Context, path: KeyPath) -> None:
        if not self.nameservers:
            ctx.error((*path, "nameservers"), "at least one nameserver is required")
        for i, ns in enumerate(self.nameservers):
            hp = _parse_hostport(ns)
            if hp is None:
                ctx.error(
                    (*path, "nameservers", i),
                    f"invalid nameserver {ns!r}; expected an IP address and optional port "
                    "(192.0.2.53:53, [2001:db8::53]:53)",
                )
        if self.timeout <= 0:
            ctx.error((*path, "timeout"), "timeout must be greater than 0")
        if self.min_timeout <= 0:
            ctx.error((*path, "min_timeout"), "min_timeout must be greater than 0")
        if not 0 <= self.retries <= 10:
            ctx.error((*path, "retries"), f"retries must be between 0 and 10, got {self.retries}")
        if not 1 <= self.concurrency <= 10000:
            ctx.error((*path, "concurrency"), f"concurrency must be between 1 and 10000, got {self.concurrency}")

    def addresses(self) -> list[tuple[str, int]]:
        return [hp for ns in self.nameservers if (hp := _parse_hostport(ns))]


@dataclass
class ScoringConfig:
    warning_below: float = 70.0  # status warning when the score is below this
    min_coverage: float = 0.8  # status unknown when fewer lists answered
    major_weight: float = 50.0  # default points a listing on a major list costs
    minor_weight: float = 15.0  # default points a listing on a minor list costs

    def validate(self, ctx: Context, path: KeyPath) -> None:
        for key in ("warning_below", "major_weight", "minor_weight"):
            v = getattr(self, key)
            if not 0 <= v <= 100:
                ctx.error((*path, key), f"{key} must be between 0 and 100, got {v:g}")
        if not 0 < self.min_coverage <= 1:
            ctx.error((*path, "min_coverage"), f"min_coverage must be in (0, 1], got {self.min_coverage:g}")


@dataclass
class ListConfig:
    name: str = required(default="")
    profile: str = ""  # built-in profile; defaults to ``name`` when that is a built-in
    zone: str = ""
    kind: Literal["ip", "domain", ""] = ""
    tier: Literal["major", "minor", ""] = ""
    weight: float | None = None
    delist_url: str = ""
    interval: Duration | None = None
    return_codes: dict[str, str] = field(default_factory=dict)
    dqs_key_file: str = ""
    daily_query_budget: int | None = None
    test_listed: str = ""
    test_clean: str = ""
    ip_versions: list[int] = field(default_factory=list)  # IP lists: [4], [6] or [4, 6]; default: the profile's

    def validate(self, ctx: Context, path: KeyPath) -> None:
        for i, v in enumerate(self.ip_versions):
            if v not in (4, 6):
                ctx.error((*path, "ip_versions", i), f"ip_versions holds 4 and/or 6, got {v!r}")
        if len(set(self.ip_versions)) != len(self.ip_versions):
            ctx.error((*path, "ip_versions"), "ip_versions lists a version twice")
        if not _LABEL_RE.match(self.name.replace("-", "_").replace(".", "_")):
            ctx.error((*path, "name"), f"invalid list name {self.name!r}; use letters, digits, '-', '_' and '.'")
        if self.profile and self.profile not in PROFILES:
            ctx.error(
                (*path, "profile"),
                f"unknown profile {self.profile!r}; built-in profiles: " + ", ".join(sorted(PROFILES)),
            )
        base = PROFILES.get(self.profile or self.name)
        if base is None and not self.zone and (why := closed_reason(self.name)):
            ctx.error((*path, "name"), f"list {self.name} is closed: {why}")
            return
        if base is None and not self.profile:
            if not self.zone:
                ctx.error(
                    (*path, "zone"),
                    f"list {self.name!r} is not a built-in profile "
                    f"({', '.join(sorted(PROFILES))}); set zone and kind for a custom list",
                )
            elif not self.kind:
                ctx.error((*path, "kind"), f"custom list {self.name!r} needs kind: ip or domain")
        if self.zone:
            why = closed_reason(self.zone)
            if why:
                ctx.error((*path, "zone"), f"list {self.zone} is closed: {why}")
            elif not _ZONE_RE.match(self.zone.lower().rstrip(".")):
                ctx.error((*path, "zone"), f"invalid DNS zone {self.zone!r}")
        if self.weight is not None and not 0 <= self.weight <= 100:
            ctx.error((*path, "weight"), f"weight must be between 0 and 100, got {self.weight:g}")
        if self.interval is not None and self.interval < 10:
            ctx.error((*path, "interval"), "interval must be at least 10s")
        for code in self.return_codes:
            try:
                ok = ipaddress.ip_address(code) in ipaddress.ip_network("127.0.0.0/8")
            except ValueError:
                ok = False
            if not ok:
                ctx.error((*path, "return_codes", code), f"return code {code!r} must be an address in 127.0.0.0/8")
        if self.dqs_key_file and (base is None or not base.dqs_zone):
            ctx.error(
                (*path, "dqs_key_file"), "dqs_key_file only applies to Spamhaus lists (spamhaus-zen, spamhaus-dbl)"
            )
        if self.dqs_key_file and self.zone:
            ctx.error((*path, "zone"), "zone and dqs_key_file exclude each other: the key selects the DQS zone")
        if self.daily_query_budget is not None and self.daily_query_budget < 0:
            ctx.error((*path, "daily_query_budget"), "daily_query_budget must not be negative")


@dataclass
class TargetConfig:
    ip: str = ""
    cidr: str = ""
    domain: str = ""
    # A mail host name: its A/AAAA addresses are looked up every cycle and each is checked.
    host: str = ""
    # With ``domain``: also check the addresses of the domain's MX hosts (the domain itself stays a
    # domain-list target).
    mx: bool = False
    provider: str = ""
    pool: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    def validate(self, ctx: Context, path: KeyPath) -> None:
        given = [k for k in ("ip", "cidr", "domain", "host") if getattr(self, k)]
        if len(given) != 1:
            ctx.error(
                path,
                "each target needs exactly one of ip, cidr, domain, host"
                + (f" (got {', '.join(given)})" if given else ""),
            )
            return
        if self.host and to_ascii_domain(self.host) is None:
            ctx.error((*path, "host"), f"invalid host name {self.host!r}")
        if self.mx and not self.domain:
            ctx.error((*path, "mx"), "mx applies to a domain target (its MX hosts' addresses are checked)")
        if self.ip:
            try:
                ipaddress.ip_address(self.ip)
            except ValueError:
                ctx.error((*path, "ip"), f"invalid IP address {self.ip!r}")
        if self.cidr:
            try:
                ipaddress.ip_network(self.cidr, strict=False)
            except ValueError:
                ctx.error((*path, "cidr"), f"invalid CIDR {self.cidr!r}")
        if self.domain and to_ascii_domain(self.domain) is None:
            ctx.error((*path, "domain"), f"invalid domain name {self.domain!r}")
        for k in self.labels:
            if not _LABEL_RE.match(k) or k.startswith("__"):
                ctx.error((*path, "labels", k), f"invalid label name {k!r}")
            elif k in RESERVED_LABELS:
                ctx.error((*path, "labels", k), f"label {k!r} is reserved by the exporter")


@dataclass
class ProbeEndpointConfig:
    """``GET /probe?target=``: ad-hoc checks (dnsbl_exporter's prober mode), never an open relay."""

    # Who may be checked besides the configured targets: IPs, CIDRs, domains with * wildcards, "*".
    allowed_targets: list[str] = field(default_factory=list)
    max_per_minute: int = 60  # ad-hoc checks a minute (each costs one lookup per list); 0 turns /probe off

    def validate(self, ctx: Context, path: KeyPath) -> None:
        from ..probe.allowlist import AllowList

        try:
            AllowList(self.allowed_targets)
        except ValueError as exc:
            idx = getattr(exc, "index", None)
            ctx.error((*path, "allowed_targets", idx) if idx is not None else (*path, "allowed_targets"), str(exc))
        if not 0 <= self.max_per_minute <= 100_000:
            ctx.error((*path, "max_per_minute"), "max_per_minute must be between 0 and 100000")


# The metric contract of the MTA side (the demo app exports it): messages handed to the MTA per
# sending IP.  Same default as the mixin's dailyVolumeQuery and the console's daily_volume_query.
DEFAULT_VOLUME_QUERY = (
    'sum by (target) (label_replace(increase(email_sent_total{status="success"}[1d]), '
    '"target", "$1", "source_ip", "(.+)"))'
)


@dataclass
class VolumeConfig:
    """The "Daily volume" column: one PromQL instant query against the Prometheus that scrapes the MTA."""

    prometheus_url: str = ""  # empty: no column
    query: str = DEFAULT_VOLUME_QUERY  # one series per sending IP, label ``target``
    timeout: Duration = Duration(2)

    def validate(self, ctx: Context, path: KeyPath) -> None:
        if self.prometheus_url and not re.match(r"^https?://[^/\s]+", self.prometheus_url):
            ctx.error((*path, "prometheus_url"), f"prometheus_url must be an http(s) URL, got {self.prometheus_url!r}")
        if not self.query.strip():
            ctx.error((*path, "query"), "query must not be empty")
        if self.timeout <= 0:
            ctx.error((*path, "timeout"), "timeout must be greater than 0")


@dataclass
class HistoryConfig:
    """``GET /export``: score and listing history as CSV (the page's "history" links), as ``export``."""

    # The Prometheus (or long-term store) that scrapes this exporter; empty: no /export, no links.
    prometheus_url: str = ""
    since: Duration = Duration(90 * 86400)  # default range of a link
    timeout: Duration = Duration(30)  # per query_range request

    def validate(self, ctx: Context, path: KeyPath) -> None:
        if self.prometheus_url and not re.match(r"^https?://[^/\s]+", self.prometheus_url):
            ctx.error((*path, "prometheus_url"), f"prometheus_url must be an http(s) URL, got {self.prometheus_url!r}")
        if self.since <= 0:
            ctx.error((*path, "since"), "since must be greater than 0")
        if self.timeout <= 0:
            ctx.error((*path, "timeout"), "timeout must be greater than 0")


@dataclass
class ReputationConfig:
    resolver: ResolverConfig = field(default_factory=ResolverConfig)
    probe: ProbeEndpointConfig = field(default_factory=ProbeEndpointConfig)
    volume: VolumeConfig = field(default_factory=VolumeConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    interval: Duration = Duration(300)
    max_cache_ttl: DurationOrZero | None = None  # cap on how long an answer is reused (0: never); default: interval / 2
    max_cidr_addresses: int = 256
    state_file: str = ""
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    lists: list[ListConfig] = field(default_factory=list)
    targets: list[TargetConfig] = field(default_factory=list)

    def validate(self, ctx: Context, path: KeyPath) -> None:
        if self.interval < 10:
            ctx.error((*path, "interval"), "interval must be at least 10s")
        if not 1 <= self.max_cidr_addresses <= 65536:
            ctx.error((*path, "max_cidr_addresses"), "max_cidr_addresses must be between 1 and 65536")
        if not self.lists:
            ctx.error((*path, "lists"), "at least one list is required")
        seen: dict[str, int] = {}
        for i, lc in enumerate(self.lists):
            if lc.name in seen:
                ctx.error(
                    (*path, "lists", i, "name"), f"duplicate list name {lc.name!r} (first at lists[{seen[lc.name]}])"
                )
            seen.setdefault(lc.name, i)


@dataclass(frozen=True)
class ListSpec:
    """A configured list, resolved: what the engine needs."""

    name: str
    zone: str  # the zone queried (may contain the DQS key: never print it)
    public_zone: str  # the zone with the DQS key masked, for labels and pages
    kind: str
    tier: str
    weight: float
    delist_url: str
    interval: float
    profile: ListProfile
    codes: tuple[tuple[str, str], ...]
    daily_query_budget: int
    ip_versions: tuple[int, ...] = (4,)

    @property
    def code_table(self) -> dict[str, str]:
        return dict(self.codes)

    def applies(self, target: Target) -> bool:
        """Whether this list answers for the target (kind, and address family for IP lists)."""
        if target.kind != self.kind:
            return False
        if self.kind == "ip":
            return (6 if ":" in target.value else 4) in self.ip_versions
        return True


@dataclass(frozen=True)
class Target:
    """One address or domain to check."""

    value: str  # normalised: compressed IP or lower-case domain
    kind: str  # ip | domain
    provider: str = ""
    pool: str = ""
    source: str = ""  # the configured ip/cidr/domain it came from
    labels: tuple[tuple[str, str], ...] = ()
    host: str = ""  # for an address found through a host name (or an MX host): that name


@dataclass(frozen=True)
class HostSpec:
    """A name whose addresses are targets: a ``host`` (A/AAAA) or a ``domain`` with ``mx: true``."""

    name: str  # A-label form
    mx: bool  # resolve the MX hosts of ``name`` first
    provider: str = ""
    pool: str = ""
    labels: tuple[tuple[str, str], ...] = ()


@dataclass
class Loaded:
    """The result of loading: raw config (for /config) and resolved lists and targets."""

    raw: ReputationConfig
    lists: list[ListSpec]
    targets: list[Target]
    warnings: list[Problem]
    base_dir: Path = field(default_factory=Path)
    hosts: list[HostSpec] = field(default_factory=list)

    def projected_daily_queries(self, spec: ListSpec) -> float:
        n = sum(1 for t in self.targets if spec.applies(t)) + len(spec.profile.points())
        return n * 86400.0 / spec.interval


def _resolve_list(lc: ListConfig, cfg: ReputationConfig, ctx: Context, path: KeyPath) -> ListSpec | None:
    base = PROFILES.get(lc.profile or lc.name)
    kind = lc.kind or (base.kind if base else "ip")
    tier = lc.tier or (base.tier if base else "minor")
    if base is None:
        base = ListProfile(
            name=lc.name,
            zone=lc.zone.lower().rstrip("."),
            kind=kind,
            tier=tier,  # type: ignore[arg-type]
            delist_url=lc.delist_url,
            ip_versions=(4, 6),  # a custom list is asked for every address unless ip_versions says otherwise
        )
    if lc.kind and lc.kind != base.kind and (lc.profile or lc.name) in PROFILES:
        ctx.error((*path, "kind"), f"profile {base.name} is a {base.kind} list; kind {lc.kind} contradicts it")
        return None
    zone = (lc.zone or base.zone).lower().rstrip(".")
    public_zone = zone
    if lc.dqs_key_file:
        key = ctx.read_secret_file((*path, "dqs_key_file"), lc.dqs_key_file)
        if key is None:
            return None
        if not re.fullmatch(r"[a-z0-9]{8,64}", key):
            ctx.error((*path, "dqs_key_file"), "the DQS key file must hold one key of letters and digits")
            return None
        zone = Secret(f"{key}.{base.dqs_zone}")
        public_zone = f"<key>.{base.dqs_zone}"
    codes = lc.return_codes or base.codes
    weight = (
        lc.weight
        if lc.weight is not None
        else (cfg.scoring.major_weight if tier == "major" else cfg.scoring.minor_weight)
    )
    budget = lc.daily_query_budget if lc.daily_query_budget is not None else base.daily_query_budget
    test_listed = lc.test_listed or base.test_listed
    test_clean = lc.test_clean or base.test_clean
    ip_versions = tuple(sorted(lc.ip_versions)) if lc.ip_versions else base.ip_versions
    if test_listed != base.test_listed or test_clean != base.test_clean or ip_versions != base.ip_versions:
        # Given test points replace the profile's declared ones (RFC 5782 shape, these names).
        overridden = bool(lc.test_listed or lc.test_clean)
        base = ListProfile(
            **{
                **base.__dict__,
                "test_listed": test_listed,
                "test_clean": test_clean,
                "ip_versions": ip_versions,
                "test_points": () if overridden else base.test_points,
            }
        )
    return ListSpec(
        name=lc.name,
        zone=zone,
        public_zone=public_zone,
        kind=kind,
        tier=tier,
        weight=weight,
        delist_url=lc.delist_url or base.delist_url,
        interval=float(lc.interval if lc.interval is not None else cfg.interval),
        profile=base,
        codes=tuple(sorted(codes.items())),
        daily_query_budget=budget,
        ip_versions=ip_versions,
    )


def _expand_target(tc: TargetConfig, cfg: ReputationConfig, ctx: Context, path: KeyPath) -> list[Target]:
    labels = tuple(sorted(tc.labels.items()))
    common = {"provider": tc.provider, "pool": tc.pool, "labels": labels}
    if tc.ip:
        return [Target(str(normalize_ip(tc.ip)), "ip", source=tc.ip, **common)]
    if tc.host:
        return []  # resolved by the engine every cycle (Loaded.hosts)
    if tc.domain:
        d = to_ascii_domain(tc.domain) or tc.domain.lower().rstrip(".")  # IDN -> A-labels (IDNA 2008)
        return [Target(d, "domain", source=tc.domain, **common)]
    net = ipaddress.ip_network(tc.cidr, strict=False)
    if net.num_addresses > cfg.max_cidr_addresses:
        ctx.error(
            (*path, "cidr"),
            f"{tc.cidr} has {net.num_addresses} addresses, more than "
            f"max_cidr_addresses ({cfg.max_cidr_addresses}); split it or raise the cap",
        )
        return []
    return [Target(str(normalize_ip(str(ip))), "ip", source=str(net), **common) for ip in net]


def build(cfg: ReputationConfig, ctx: Context) -> Loaded:
    specs: list[ListSpec] = []
    for i, lc in enumerate(cfg.lists):
        spec = _resolve_list(lc, cfg, ctx, ("lists", i))
        if spec:
            specs.append(spec)
    targets: list[Target] = []
    seen: dict[str, int] = {}
    for i, tc in enumerate(cfg.targets):
        for t in _expand_target(tc, cfg, ctx, ("targets", i)):
            if t.value in seen:
                ctx.error(("targets", i), f"target {t.value} is already configured by targets[{seen[t.value]}]")
                continue
            seen[t.value] = i
            targets.append(t)
    hosts = [
        HostSpec(
            to_ascii_domain(tc.host or tc.domain) or "",
            mx=tc.mx,
            provider=tc.provider,
            pool=tc.pool,
            labels=tuple(sorted(tc.labels.items())),
        )
        for tc in cfg.targets
        if tc.host or (tc.domain and tc.mx)
    ]
    loaded = Loaded(cfg, specs, targets, ctx.warnings, ctx.base_dir, hosts)
    for i, spec in enumerate(specs):
        if spec.daily_query_budget:
            projected = loaded.projected_daily_queries(spec)
            if projected > spec.daily_query_budget:
                ctx.warn(
                    ("lists", i),
                    f"list {spec.name} would need {projected:,.0f} queries a day, more than "
                    f"its daily budget of {spec.daily_query_budget:,}; raise interval or use a DQS key",
                )
    kinds = {s.kind for s in specs}
    for i, tc in enumerate(cfg.targets):
        kind = "domain" if tc.domain else "ip"  # a host's addresses are IP targets
        if specs and kind not in kinds:
            ctx.warn(("targets", i), f"no {kind} list is configured, so this target is never checked")
    return loaded


def load_config(path: str | Path) -> Loaded:
    data, loc = load_yaml_file(path)
    ctx = Context(loc, base_dir=Path(path).resolve().parent)
    cfg = from_yaml(ReputationConfig, data, ctx)
    ctx.raise_if_problems()
    loaded = build(cfg, ctx)
    ctx.raise_if_problems()
    return loaded


def load_config_text(text: str, file: str = "<config>", base_dir: Path | None = None) -> Loaded:
    from ..core.config import load_yaml_text

    data, loc = load_yaml_text(text, file)
    ctx = Context(loc, base_dir=base_dir or Path.cwd())
    cfg = from_yaml(ReputationConfig, data, ctx)
    ctx.raise_if_problems()
    loaded = build(cfg, ctx)
    ctx.raise_if_problems()
    return loaded


__all__ = ["ConfigError", "ListSpec", "Loaded", "ReputationConfig", "Target", "load_config", "load_config_text"]
