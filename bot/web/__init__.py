"""The bot's web pages for parents: signed links, the receipt page and the incident page, their
templates."""
