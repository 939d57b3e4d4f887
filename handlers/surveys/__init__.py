"""Parent surveys 问卷 in the chat: `/survey` for 德育处 and the principal (choose a form, the
families, the share and the deadline, see the draw, send), the list of surveys and their results
(models/surveys/ holds the rules and the tables)."""
