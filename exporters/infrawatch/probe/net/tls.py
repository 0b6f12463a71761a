"""The TLS metrics every prober records, and reading a chain that failed verification.

Probers that speak TLS take their context from ``ctx.tls.get(cfg)`` (the client contexts of the
configuration generation, see ``core/tlsclient.py``) and, after a handshake, call
``record_tls(ctx, ssl_object, verified=True)``.  When verification fails they call
``inspect_unverified(...)`` (or handshake again themselves with ``ctx.tls.get(cfg, verify=False)``
and ``record_tls(..., verified=False)``) so the certificate metrics stay present with
``probe_tls_verified 0``: an expired certificate and a down service look different on a dashboard.

The chain is read through the private ``_ssl._SSLSocket.get_verified_chain()`` /
``get_unverified_chain()`` (present since Python 3.10, public only in 3.13); when absent we fall
back to the leaf certificate alone.
"""

from __future__ import annotations

import _ssl
import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...core.metrics import MetricFamily
from ...core.tlsclient import TLSConfig
from ..context import ProbeContext

if TYPE_CHECKING:
    from cryptography import x509

# cryptography is imported on first use: it costs ~8 MB of RSS, which an exporter with no TLS
# targets should not pay.

# _ssl.ENCODING_DER: the private chain API's certificates take it (not re-exported by ssl in 3.11).
_ENCODING_DER = getattr(_ssl, "ENCODING_DER", 2)

# blackbox's label values for probe_tls_version_info{version}
_VERSION_LABEL = {"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3"}

TLS_VERSION_INFO = MetricFamily(
    "probe_tls_version_info", "Returns the TLS version used or NaN when unknown", labels=("version",)
)
TLS_VERIFIED = MetricFamily("probe_tls_verified", "1 if the peer's certificate chain and name were verified, 0 if not")
SSL_EARLIEST_CERT_EXPIRY = MetricFamily("probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime")
SSL_LAST_CHAIN_EXPIRY = MetricFamily(
    "probe_ssl_last_chain_expiry_timestamp_seconds", "Returns last SSL chain expiry in timestamp"
)
SSL_LAST_CHAIN_INFO = MetricFamily(
    "probe_ssl_last_chain_info",
    "Contains SSL leaf certificate information",
    labels=("fingerprint_sha256", "subject", "issuer", "subjectalternative"),
)
FAMILIES = (TLS_VERSION_INFO, TLS_VERIFIED, SSL_EARLIEST_CERT_EXPIRY, SSL_LAST_CHAIN_EXPIRY, SSL_LAST_CHAIN_INFO)
__all__ = ["FAMILIES", "CertSummary", "TLSConfig", "inspect_unverified", "record_tls", "server_hostname"]


def _chain(ssl_object: Any, verified: bool) -> list[x509.Certificate]:
    """The peer's chain, leaf first; the leaf alone when the private chain API is missing."""
    inner = getattr(ssl_object, "_sslobj", ssl_object)
    certs: list[bytes] = []
    for name in ("get_verified_chain", "get_unverified_chain") if verified else ("get_unverified_chain",):
        getter = getattr(inner, name, None)
        if getter is None:
            continue
        try:
            chain = getter() or []
        except (ssl.SSLError, ValueError):
            chain = []
        certs = [c.public_bytes(_ENCODING_DER) for c in chain]
        if certs:
            break
    if not certs:
        leaf = ssl_object.getpeercert(binary_form=True)
        certs = [leaf] if leaf else []
    from cryptography import x509

    out = []
    for der in certs:
        with contextlib.suppress(ValueError):
            out.append(x509.load_der_x509_certificate(der))
    return out


def _not_after(cert: x509.Certificate) -> float:
    return cert.not_valid_after_utc.timestamp()


def _sans(cert: x509.Certificate) -> str:
    from cryptography import x509

    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ""
    return ",".join(ext.get_values_for_type(x509.DNSName))


def _sha256_fingerprint(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import hashes

    return cert.fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True)
class CertSummary:
    """What the status page and debug output show about the leaf certificate."""

    subject: str
    issuer: str
    not_after: float
    sans: str
    fingerprint_sha256: str

    @property
    def expired(self) -> bool:
        return self.not_after < datetime.now(UTC).timestamp()


def record_tls(ctx: ProbeContext[Any], ssl_object: Any, verified: bool) -> CertSummary | None:
    """Record blackbox's TLS metrics for ``ssl_object`` (an ``ssl.SSLObject`` or ``SSLSocket``).

    - ``probe_ssl_earliest_cert_expiry``: earliest notAfter of the certificates the peer sent
    - ``probe_ssl_last_chain_expiry_timestamp_seconds``: earliest notAfter within the (verified)
      chain; blackbox takes the chain that lives longest, Python exposes one chain
    - ``probe_ssl_last_chain_info{fingerprint_sha256,subject,issuer,subjectalternative}`` for the leaf
    - ``probe_tls_version_info{version}`` and ``probe_tls_verified``
    """
    version = ssl_object.version() or ""
    m = ctx.metrics
    m.set(TLS_VERSION_INFO, 1, {"version": _VERSION_LABEL.get(version, version)})
    m.set(TLS_VERIFIED, 1 if verified else 0)
    presented = _chain(ssl_object, verified=False)
    chain = _chain(ssl_object, verified=True) if verified else presented
    if not presented:
        ctx.log("peer sent no certificate")
        return None
    leaf = presented[0]
    m.set(SSL_EARLIEST_CERT_EXPIRY, min(_not_after(c) for c in presented))
    m.set(SSL_LAST_CHAIN_EXPIRY, min(_not_after(c) for c in chain))
    summary = CertSummary(
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        not_after=_not_after(leaf),
        sans=_sans(leaf),
        fingerprint_sha256=_sha256_fingerprint(leaf),
    )
    m.set(
        SSL_LAST_CHAIN_INFO,
        1,
        {
            "fingerprint_sha256": summary.fingerprint_sha256,
            "subject": summary.subject,
            "issuer": summary.issuer,
            "subjectalternative": summary.sans,
        },
    )
    ctx.log(
        "TLS handshake",
        version=version,
        verified=verified,
        subject=summary.subject,
        not_after=datetime.fromtimestamp(summary.not_after, UTC).isoformat(),
    )
    return summary


def server_hostname(cfg: TLSConfig | None, host: str) -> str | None:
    """SNI and verification name: ``tls_config.server_name`` or the target host (none for IPs)."""
    if cfg and cfg.server_name:
        return cfg.server_name
    return host.strip("[]") or None


async def inspect_unverified(
    ctx: ProbeContext[Any], ip: str, port: int, hostname: str | None, cfg: TLSConfig | None
) -> CertSummary | None:
    """Handshake again without verification to record the chain after a verification failure.

    Used by probers that connect with TLS straight away (http, tcp with ``tls: true``).  Failures
    here are logged only: the probe has already failed with reason ``tls``.
    """
    writer = None
    try:
        async with asyncio.timeout(max(0.1, ctx.remaining)):
            _, writer = await asyncio.open_connection(
                ip, port, ssl=ctx.tls.get(cfg, verify=False), server_hostname=hostname or ""
            )
            obj = writer.get_extra_info("ssl_object")
            return record_tls(ctx, obj, verified=False) if obj else None
    except (OSError, ssl.SSLError, TimeoutError) as exc:
        ctx.log("could not read the certificate chain without verification", err=str(exc))
        return None
    finally:
        if writer is not None:
            writer.transport.abort()


def verify_error_text(exc: BaseException) -> str:
    """A short reason for a failed handshake (``certificate has expired``, ``Hostname mismatch``)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or str(exc)
    return str(exc)
