"""The send ledger and the scheduler's lease."""
