"""Scheduled jobs as plain async functions called with `now`, and the APScheduler set-up.

- `scheduler.base`: the job contract (`Job`, `JobContext`); job modules import only this.
- `scheduler.registry`: `all_jobs()`, every job in one list.
- `scheduler.run`: `run_job` — claim a (job, slot), run it in one transaction, record the outcome.
- `scheduler.slots`: the (job, slot) claims in `job_run`.
- `scheduler.service`: `JobScheduler` — catch-up after downtime, then APScheduler 3 with a
  persistent job store, in the school's zone.
- `scheduler.timing`: triggers, slots, schedules in words.

The idle-conversation sweep is not a job here: the channels run it (`Dispatcher.expire_idle`).
"""
