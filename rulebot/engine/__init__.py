"""rulebot.engine"""
