"""One module per messenger; the only code that imports python-telegram-bot or wechatpy."""
