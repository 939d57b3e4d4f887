"""The 大走访 home-visit campaign (seed 003): its rules, the assignment table 包保表, coverage
入户率 and double visits, and the teachers' evaluation — pure rules, no database."""
