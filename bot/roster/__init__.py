"""Bringing people in: the roster import and its files, invites, and WeCom identity sync."""
