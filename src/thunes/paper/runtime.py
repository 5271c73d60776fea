"""Paper mode's exchange for the daemon: its settings, and where its wallet lives."""

from __future__ import annotations

from pathlib import Path

from thunes.config import Settings
from thunes.paper.venue import PaperConfig, PaperExchange

WALLET_FILE = "paper_wallet.json"


def wallet_path(state_dir: Path) -> Path:
    return state_dir / WALLET_FILE


def paper_config(settings: Settings) -> PaperConfig:
    """The paper exchange `settings` describe: source, starting wallet, fees, wallet file."""
    return PaperConfig(
        source_url=settings.paper_rest_url,
        wallet=settings.paper_wallet,
        fee_rate=settings.sim_fee_rate,
        snapshot_path=wallet_path(settings.state_dir),
    )


async def start_paper(settings: Settings) -> PaperExchange:
    """Start the local paper exchange on an ephemeral loopback port."""
    paper = PaperExchange(paper_config(settings))
    await paper.start()
    return paper
