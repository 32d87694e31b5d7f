"""The outbox: stored with the change, delivered once, paced, reconciled after doubt."""
