"""The privacy of children's data: guardians' consent, what is kept and for how long."""
