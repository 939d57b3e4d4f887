"""Family situation 家庭情况 as fields (seed 003 附2), remembered per household, and the tag
changes a visit proposes to 德育处."""
