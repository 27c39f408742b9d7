"""The paper exchange: a simulated account and the fill rules of SIMULATION.md."""

from rulebot.exchange.paper.exchange import FillMode, PaperConfig, PaperExchange

__all__ = ["FillMode", "PaperConfig", "PaperExchange"]
