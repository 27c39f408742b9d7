"""rulebot.actions"""
