"""One HTTP/2 request on an open TLS stream whose ALPN chose ``h2`` (the ``h2`` package).

The http prober offers ``h2`` only with ``enable_http2: true`` (as Go's client does when blackbox's
``enable_http2`` is on) and comes here when the server picks it; the HTTP/1.1 path is untouched.
``h2`` is a sans-IO state machine: the bytes go over the same asyncio stream, so the prober's
phase timings (connect, tls, processing until the response HEADERS, transfer until END_STREAM)
stay as they are for HTTP/1.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

# Connection-specific headers HTTP/2 forbids (RFC 9113 8.2.2); Host becomes :authority.
_DROPPED = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"})


class H2Error(Exception):
    """The HTTP/2 exchange broke (reset stream, GOAWAY, closed connection, protocol error)."""


async def exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    method: str,
    authority: str,
    path: str,
    headers: list[tuple[str, str]],
    body: bytes,
    on_sent: Callable[[], None],
    on_head: Callable[[int, list[tuple[str, str]]], None],
    on_data: Callable[[bytes], None],
) -> None:
    """Send the request, then call ``on_head(status, headers)`` for the final response (1xx are
    skipped) and ``on_data(chunk)`` for each body chunk until the stream ends.  An exception raised
    by ``on_data`` (a size limit) ends the exchange and propagates."""
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions

    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="latin-1"))
    conn.initiate_connection()
    sid = conn.get_next_available_stream_id()
    request = [(":method", method), (":scheme", "https"), (":authority", authority), (":path", path)]
    request += [(k.lower(), v) for k, v in headers if k.lower() not in _DROPPED]
    try:
        conn.send_headers(sid, request, end_stream=not body)
        if body:
            conn.send_data(sid, body, end_stream=True)
    except h2.exceptions.H2Error as exc:
        raise H2Error(f"cannot send the HTTP/2 request: {exc}") from None
    writer.write(conn.data_to_send())
    await writer.drain()
    on_sent()
    while True:
        data = await reader.read(65536)
        if not data:
            raise H2Error("connection closed before the HTTP/2 response ended")
        try:
            events = conn.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            raise H2Error(f"HTTP/2 protocol error: {exc}") from None
        for ev in events:
            if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                pairs = [(str(k), str(v)) for k, v in ev.headers]
                status = int(next(v for k, v in pairs if k == ":status"))
                on_head(status, [(k, v) for k, v in pairs if not k.startswith(":")])
            elif isinstance(ev, h2.events.InformationalResponseReceived):
                continue
            elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                on_data(ev.data)
            elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                writer.write(conn.data_to_send())
                return
            elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
                raise H2Error(f"the server reset the HTTP/2 stream (error code {ev.error_code})")
            elif isinstance(ev, h2.events.ConnectionTerminated):
                raise H2Error(f"the server ended the HTTP/2 connection (GOAWAY, error code {ev.error_code})")
        out = conn.data_to_send()
        if out:
            writer.write(out)
