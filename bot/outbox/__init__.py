"""The outbox: Slack side effects stored with the change that causes them, sent later."""
