"""Parent surveys 问卷 and opinion week 民意访问周: forms, samples and answers (seed 003)."""
