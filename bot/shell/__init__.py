"""Running Opsloop with no Slack: a Web API stand-in, signed payload builders and a driver.

Used by `opsloop shell`, by the test suite and by the benchmarks, so all three exercise the
real Bolt app the same way Slack would.
"""
