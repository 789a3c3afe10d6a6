"""A real job worker for tests/certs/test_batch_worker.py: the app on the test database, the consumer of comp.jobs.

    python -m tests.certs.batch_worker SETTINGS_JSON

SETTINGS_JSON: the test configuration's overrides (database, queue, batch folder, stall time).
"""

from __future__ import annotations

import json
import sys

from comp import create_app
from comp.config import test_config
from comp.services import jobs


def main(argv: list[str]) -> None:
    overrides = json.loads(argv[1])
    app = create_app({**test_config(overrides.pop("SQLALCHEMY_DATABASE_URI")), **overrides})
    jobs.run_worker(app, workers=1)


if __name__ == "__main__":
    main(sys.argv)
