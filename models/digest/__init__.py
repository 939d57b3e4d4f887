"""The figures of 德育处's daily digest, gathered in a fixed number of queries."""
