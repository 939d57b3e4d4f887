"""WeChat Work (企业微信) bookkeeping: callback nonces, callbacks kept until handled, access tokens."""
