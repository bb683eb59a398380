"""Benchmarks: `make bench` runs them and prints figures; nothing here asserts on speed."""
