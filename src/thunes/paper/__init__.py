"""Paper mode (`THUNES_MODE=paper`): live public prices, orders filled on this machine.

Design: a local "paper exchange" (`venue.PaperExchange`, an in-process aiohttp server on
127.0.0.1 like the embedded simulator) looks like Binance to THUNES' gateway, so `trading/` and
`exchange/` run unchanged: the same risk, stops, reconciliation, alerts and reports as live.

- Market data: public REST requests (klines, tickers, depth, exchangeInfo, time) are relayed to
  the source, Binance's public endpoints (live by default, testnet by `THUNES_PAPER_SOURCE`, any
  Binance-compatible host by `THUNES_PAPER_SOURCE_URL`), with the path and query only: no key,
  no header, no signed endpoint ever reaches it. The price stream reads the source's public
  streams directly.
- Orders never leave the machine: the simulator's matching engine (`thunes.sim.exchange`) and its
  account handlers answer them. A market order walks the source's `/depth` answer read just
  before it; a resting limit or stop order fills on the source's public trades that reach its
  price (`market`); fees are `THUNES_SIM_FEE_RATE`, as in the simulator.
- The wallet (`THUNES_PAPER_WALLET` USDT at first) is `paper_wallet.json` in the state directory,
  rewritten atomically after every change; it survives restarts and SIGKILL.
- The account stream is served locally (the simulator's WebSocket API over the paper account).
"""

from thunes.paper.source import MarketSource, SourceError
from thunes.paper.venue import PaperConfig, PaperExchange

__all__ = ["MarketSource", "PaperConfig", "PaperExchange", "SourceError"]
