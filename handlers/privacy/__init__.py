"""A guardian's consent (`consent`), their view of their children's data (`mydata`: /mydata)
and its correction."""
