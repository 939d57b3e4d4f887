"""Operating the bot: its health (`GET /healthz`), its metrics (`GET /metrics`) and JSON logs."""
