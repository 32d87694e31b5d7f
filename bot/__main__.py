"""`python -m bot` is the same as the `opsloop` console script."""

from bot.cli import main

if __name__ == "__main__":
    main()
