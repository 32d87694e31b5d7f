"""The App Home tab through app_home_opened events."""
