"""rulebot: a rules engine for trading on Bybit."""

__version__ = "0.1.0"
__all__ = ["__version__"]
