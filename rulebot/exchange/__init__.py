"""rulebot.exchange"""
