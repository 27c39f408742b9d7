"""rulebot.backtest"""
