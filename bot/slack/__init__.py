"""The Slack plumbing, each piece once: client, HTTP mode, request context, posting, mrkdwn."""
