"""Teachers' evaluation 家访工作考核: the period, the figures gathered for every teacher, the score."""
