"""Flood limits for people: how much one person may send to others through the bot."""
