"""Storage-level failures the layers above translate for users."""


class DatabaseUnavailableError(Exception):
    """The database could not be reached or dropped the connection; nothing was committed."""
