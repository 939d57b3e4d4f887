"""Scheduled jobs as plain async functions called with `now`, and the APScheduler set-up.

Issue 2 needs only the idle-conversation sweep, which the channels run on python-telegram-bot's
job queue (or a console loop) through `handlers.dispatcher.Dispatcher.expire_idle`. Reminders,
alerts and the daily digest arrive here with the scheduler issue.
"""
