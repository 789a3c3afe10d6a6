"""`python -m bench.loadtest` (`make loadtest`): the judging day under load, on gunicorn and PostgreSQL.

N judge clients do what the score sheet's tablet does (log in, open a sheet, save each mark as
it is typed, reload the tally, re-send from the outbox after a failure) and M hall screens
poll the live board, against `gunicorn -w 2 wsgi:app` on a scratch PostgreSQL database; one
worker is killed with SIGKILL mid-run. Every acknowledged save goes into a ledger that is
checked against the database afterwards. The same client code then hammers the floor, a bare
Flask + psycopg app doing the same requests on a table of its own (`app_floor`), and the
saves a second of the two are compared. Speed goals are reported, never asserted: the exit
status is 1 only when a save was lost or wrong, a server answered 5xx, or the harness failed.
"""
