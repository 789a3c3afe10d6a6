"""The talent pool fixture (tests/people/test_talent.py) for the other tests of the pool."""

from tests.people.test_talent import pool  # noqa: F401
