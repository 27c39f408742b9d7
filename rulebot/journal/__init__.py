"""rulebot.journal"""
