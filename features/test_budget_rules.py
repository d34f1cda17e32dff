"""Collects every scenario under features/ (the .feature files are the tests)."""

from pytest_bdd import scenarios

scenarios(".")
