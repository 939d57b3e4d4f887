"""The scheduled jobs, one module per family: digest, duties, incidents, notices, reminders."""
