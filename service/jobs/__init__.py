"""Durable outbound work: every call to a shop or carrier is a row in `outbound_jobs`.

`queue` enqueues, claims (safe with several service processes: `FOR UPDATE SKIP LOCKED` on
PostgreSQL, `BEGIN IMMEDIATE` on SQLite), retries with exponential backoff and jitter, and
parks a job as `dead` after too many attempts or too long; operators retry or dismiss it.
`worker` runs due jobs through the handlers of `kinds`; `scheduler` runs the worker,
reconciliation and tracking polls periodically inside `packbench-service serve`.
"""
