"""`/campaign` (大走访): 德育处 and the principal set up a home-visit campaign and its 包保表."""
