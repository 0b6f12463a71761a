"""A real gRPC server with the standard grpc.health.v1 service (grpcio-health-checking) on a
free loopback port, plaintext or TLS (trustme certificates), recording the metadata it receives."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class RecordingHealth(health.HealthServicer):
    """The library's health servicer; also keeps each Check's invocation metadata."""

    def __init__(self) -> None:
        super().__init__()
        self.metadata: list[dict[str, list[str]]] = []
        self.required: tuple[str, str] | None = None  # (key, value) a caller must send

    def Check(self, request, context):
        seen: dict[str, list[str]] = {}
        for key, value in context.invocation_metadata():
            seen.setdefault(key, []).append(value)
        self.metadata.append(seen)
        if self.required and self.required[1] not in seen.get(self.required[0], []):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing credentials")
        return super().Check(request, context)


@dataclass
class HealthServer:
    port: int
    servicer: RecordingHealth
    server: grpc.Server = field(repr=False)


@contextmanager
def health_server(
    host: str = "127.0.0.1", tls: tuple[bytes, bytes] | None = None, client_ca: bytes | None = None
) -> Iterator[HealthServer]:
    """Serve ``grpc.health.v1`` on ``host``: "" is SERVING, "ok.Svc" SERVING, "down.Svc" NOT_SERVING.

    ``tls``: (private key PEM, certificate chain PEM); ``client_ca``: require a client certificate
    issued by this CA.  Stopped on exit.
    """
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = RecordingHealth()
    servicer.set("", SERVING)
    servicer.set("ok.Svc", SERVING)
    servicer.set("down.Svc", NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    address = f"[{host}]:0" if ":" in host else f"{host}:0"
    if tls is None:
        port = server.add_insecure_port(address)
    else:
        creds = grpc.ssl_server_credentials(
            [tls], root_certificates=client_ca, require_client_auth=client_ca is not None
        )
        port = server.add_secure_port(address, creds)
    server.start()
    try:
        yield HealthServer(port, servicer, server)
    finally:
        server.stop(grace=None).wait(5)
