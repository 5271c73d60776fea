"""Price stream throughput and recovery: `python scripts/bench.py stream`.

1. The message handler alone on pre-encoded combined-stream messages (one core).
2. A real loopback WebSocket: a feed server in another process pushes messages as fast as it
   can; the PriceStream client (this process, one core) reads and caches them.
3. Recovery against the simulator: seconds until prices are fresh again after the simulator
   closes the streams, and after it goes silent (watchdog + first backoff is the target).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import statistics
import time
from typing import Any

from thunes.clock import SystemClock
from thunes.market.stream import PriceStream
from thunes.market.stream_cache import PriceCache

SYMBOLS = ["BTCUSDT", "ETHUSDT"]
STEP_MS = 300_000
T0_MS = 1_672_531_200_000


def feed_messages(n: int, seed: int = 1) -> list[str]:
    """A recorded-feed-like mix: mostly bookTicker, every tenth a kline update, some closes."""
    rng = random.Random(seed)
    messages: list[str] = []
    update_id = 0
    open_ms = {s: T0_MS for s in SYMBOLS}
    for i in range(n):
        symbol = SYMBOLS[i % 2]
        low = symbol.lower()
        if i % 10 == 9:
            closed = i % 200 == 199
            k = {"t": open_ms[symbol], "T": open_ms[symbol] + STEP_MS - 1, "s": symbol,
                 "i": "5m", "f": 1, "L": 2, "o": "16500.10", "c": f"{16500 + rng.random():.2f}",
                 "h": "16510.00", "l": "16490.00", "v": "12.50000000", "n": 10, "x": closed,
                 "q": "206251.25", "V": "6.1", "Q": "100000.0", "B": "0"}
            if closed:
                open_ms[symbol] += STEP_MS
            data: dict[str, Any] = {"e": "kline", "E": i, "s": symbol, "k": k}
            messages.append(json.dumps({"stream": f"{low}@kline_5m", "data": data}))
            continue
        update_id += 1
        bid = 16500 + rng.random() * 10
        data = {"u": update_id, "s": symbol, "b": f"{bid:.8f}", "B": "1.25000000",
                "a": f"{bid + 0.01:.8f}", "A": "0.75000000"}
        messages.append(json.dumps({"stream": f"{low}@bookTicker", "data": data}))
    return messages


def bench_handler(messages: list[str]) -> list[tuple[str, str]]:
    cache = PriceCache(SYMBOLS, "5m", time.time)
    started = time.perf_counter()
    for raw in messages:
        cache.handle(raw)
    elapsed = time.perf_counter() - started
    assert sum(cache.dropped.values()) == 0 and cache.latest("BTCUSDT") is not None
    parse_started = time.perf_counter()
    for raw in messages:
        json.loads(raw)
    parse = time.perf_counter() - parse_started
    n = len(messages)
    return [
        ("handler: messages", f"{n:,}"),
        ("handler: messages/s (cache updated)", f"{n / elapsed:,.0f}"),
        ("handler: µs/message", f"{elapsed / n * 1e6:.2f}"),
        ("handler: of which json.loads µs/message", f"{parse / n * 1e6:.2f}"),
    ]


def _frame(text: str) -> bytes:
    """One unmasked server-to-client text frame (RFC 6455)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes([0x81, size])
    elif size < 65536:
        header = bytes([0x81, 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([0x81, 127]) + size.to_bytes(8, "big")
    return header + payload


def _serve_feed(n: int, port_queue: Any) -> None:
    """Child process: a bare WebSocket server that writes `n` pre-framed messages at once.

    Frames are built before the client connects so the server costs nothing while the client
    reads: the figure is what the client can take on one core.
    """
    import base64
    import hashlib

    blob = b"".join(_frame(m) for m in feed_messages(n, seed=2))
    guid = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + guid).digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        writer.write(blob)
        await writer.drain()
        await reader.read(1)  # the client's close frame (or EOF) ends the feed
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(client, "127.0.0.1", 0)
        port_queue.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


async def _read_loopback(n: int, port: int) -> float:
    stream = PriceStream(f"ws://127.0.0.1:{port}", SYMBOLS, "5m", SystemClock(),
                         watchdog_seconds=30.0)
    await stream.start()
    try:
        started = None
        while stream.health().messages < n:
            if started is None and stream.health().messages > 0:
                started = time.perf_counter()
            await asyncio.sleep(0.005)
        assert started is not None
        return time.perf_counter() - started
    finally:
        await stream.stop()


def bench_loopback(n: int) -> list[tuple[str, str]]:
    context = multiprocessing.get_context("fork")  # the bench module is loaded by path
    ports = context.Queue()
    server = context.Process(target=_serve_feed, args=(n, ports), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=30)
        cpu_before = time.process_time()
        elapsed = asyncio.run(_read_loopback(n, port))
        cpu = time.process_time() - cpu_before
    finally:
        server.kill()
        server.join()
    return [
        ("loopback websocket: messages", f"{n:,}"),
        ("loopback websocket: messages/s (client)", f"{n / elapsed:,.0f}"),
        ("loopback websocket: client CPU µs/message", f"{cpu / n * 1e6:.1f}"),
    ]


async def _recovery(rounds: int) -> dict[str, list[float]]:
    from thunes.sim import Simulator, SimulatorConfig, replay_clock

    speed = 60.0
    clock = replay_clock(speed=speed)
    sim = Simulator(SimulatorConfig(clock=clock, stream_interval=0.02))
    await sim.start(port=0)
    stream = PriceStream(sim.ws_url, SYMBOLS, "5m", clock, watchdog_seconds=0.5 * speed,
                         backoff_base=0.1 * speed, staleness_seconds=0.5 * speed,
                         rng=random.Random(5))
    await stream.start()
    results: dict[str, list[float]] = {"close": [], "silence": [], "connects_max": []}

    async def fresh_after(since: float) -> float:
        started = time.perf_counter()
        while True:
            quotes = [stream.latest(s) for s in SYMBOLS]
            if all(q is not None and q.time > since for q in quotes):
                return time.perf_counter() - started
            await asyncio.sleep(0.002)

    try:
        await fresh_after(0.0)
        for _ in range(rounds):
            since = clock.time()
            sim.faults.close_streams()
            results["close"].append(await fresh_after(since))
            since = clock.time()
            started = time.perf_counter()
            reconnects = stream.health().reconnects_last_hour
            sim.faults.silence_streams(True)
            while True:  # until the watchdog has dropped the silent connection
                health = stream.health()
                tripped = health.last_disconnect == "watchdog"
                if tripped and health.reconnects_last_hour > reconnects:
                    break
                await asyncio.sleep(0.002)
            sim.faults.silence_streams(False)
            await fresh_after(since)
            results["silence"].append(time.perf_counter() - started)
            results["connects_max"].append(float(stream.health().connects_in_window))
            sim.faults.clear()
    finally:
        await stream.stop()
        await sim.stop()
    return results


def bench_recovery(rounds: int = 5) -> list[tuple[str, str]]:
    results = asyncio.run(_recovery(rounds))
    return [
        ("sim recovery: rounds (close + silence each)", str(rounds)),
        ("sim close → fresh, median / max s (target ≤ 0.5 + 0.1)",
         f"{statistics.median(results['close']):.3f} / {max(results['close']):.3f}"),
        ("sim silence start → fresh, median / max s (target ≤ 0.5 + 0.1)",
         f"{statistics.median(results['silence']):.3f} / {max(results['silence']):.3f}"),
        ("sim connects in budget window, max", f"{max(results['connects_max']):.0f}"),
    ]


def run() -> list[tuple[str, str]]:
    rows = bench_handler(feed_messages(200_000))
    rows += bench_loopback(100_000)
    rows += bench_recovery()
    return rows


if __name__ == "__main__":
    for figure, value in run():
        print(f"{figure}: {value}")
