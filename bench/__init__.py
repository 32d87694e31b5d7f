"""Benchmarks: `python -m bench ack|memory` against `opsloop serve` and a bare Bolt baseline.

Everything runs on 127.0.0.1, with bounded request counts and time limits; results are
printed as tables and written as JSON to bench/results/<name>.json.
"""
