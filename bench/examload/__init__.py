"""The exam day under load (issue 18): 2,000 phones saving answers against gunicorn on PostgreSQL.

`python -m bench.examload` (see `__main__`); it reuses the judging load test's server, HTTP client
and ledger (`bench.loadtest`) and adds the candidates (`clients`), their schedule (`runner`), the
bare upsert floor (`floor`), the preliminary's set-up (`scenario`, `seed`) and the figures (`report`).
"""
