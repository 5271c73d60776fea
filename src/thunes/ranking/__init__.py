"""Market universe ranking: which pairs to trade, by liquidity and trend, point-in-time.

fetch (klines per symbol) → compute (vectorised features, pure) → score → rank → persist.
`types` holds the values every stage passes on; `rank.rank_universe` is the pure core.
"""
