"""PyInstaller entry point for the station: the same `main` as the `packbench` script."""

import sys

from app.main import main

if __name__ == "__main__":
    sys.exit(main())
