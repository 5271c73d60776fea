"""Checks of SIGNED requests: API key, timestamp within recvWindow, HMAC-SHA256 signature."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import unquote_plus

from thunes.sim.orders import SimError

MAX_RECV_WINDOW = 60_000
DEFAULT_RECV_WINDOW = 5_000


def check_api_key(header: str | None, expected: str) -> None:
    if not header:
        raise SimError(-2014, "API-key format invalid.", status=401)
    if not hmac.compare_digest(header, expected):
        raise SimError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)


def check_timestamp(
    params: dict[str, str],
    server_times_ms: tuple[int, ...],
    speeds: tuple[float, ...] | None = None,
) -> None:
    """Accept the request if its timestamp is valid against any of the server's clocks.

    The simulator answers to two notions of "now": the wall clock (clients that stamp requests
    with the machine's time) and the simulated clock (clients sharing the replay clock). Both
    carry any injected skew. recvWindow is real time, as on Binance: against a clock running
    `speed` times faster, the window (and the 1 s "ahead" allowance) grow by that factor.
    """
    raw = params.get("timestamp")
    if not raw or not raw.isdigit():
        raise SimError(
            -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
        )
    timestamp = int(raw)
    if timestamp > 10**14:  # microseconds
        timestamp //= 1000
    try:
        window = float(params.get("recvWindow", DEFAULT_RECV_WINDOW))
    except ValueError:
        raise SimError(
            -1102, "Mandatory parameter 'recvWindow' was not sent, was empty/null, or malformed."
        ) from None
    if window > MAX_RECV_WINDOW or window <= 0:
        raise SimError(-1131, "recvWindow must be less than 60000")
    scales = speeds or tuple(1.0 for _ in server_times_ms)
    ahead = False
    for now, speed in zip(server_times_ms, scales, strict=True):
        if timestamp < now + 1000 * speed and now - timestamp <= window * speed:
            return
        ahead = ahead or timestamp >= now + 1000 * speed
    if ahead and all(
        timestamp >= now + 1000 * speed for now, speed in zip(server_times_ms, scales, strict=True)
    ):
        raise SimError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    raise SimError(-1021, "Timestamp for this request is outside of the recvWindow.")


def _without_signature(payload: str) -> tuple[str, str | None]:
    kept: list[str] = []
    signature: str | None = None
    for pair in payload.split("&"):
        if pair.startswith("signature="):
            signature = pair[len("signature=") :]
        elif pair:
            kept.append(pair)
    return "&".join(kept), signature


def check_signature(query: str, body: str, secret: str) -> None:
    """HMAC-SHA256 over exactly the query string followed by the body, `signature` removed.

    "The signature payload of your request is the query string concatenated without separator
    to the HTTP body." (rest-api.md): `query&body` is not the same payload, and a payload signed
    before percent-encoding no longer matches ("percent-encode payloads before computing
    signatures", CHANGELOG 2025-12-17).
    """
    query_part, sig_q = _without_signature(query)
    body_part, sig_b = _without_signature(body)
    signature = sig_q or sig_b
    if not signature:
        raise SimError(
            -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
        )
    payload = query_part + body_part
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(digest, unquote_plus(signature).lower()):
        raise SimError(-1022, "Signature for this request is not valid.")
