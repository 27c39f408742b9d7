"""rulebot.market"""
