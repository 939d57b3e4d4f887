"""Visit quotas 家访指标: the pure rules, and where every teacher of a school stands on them."""
