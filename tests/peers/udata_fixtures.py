"""Fixtures for the real udata peer (session scope): see tests/peers/udata/README.md."""
