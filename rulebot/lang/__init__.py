"""rulebot.lang"""
