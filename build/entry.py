"""The frozen program's entry point (PyInstaller needs a script, not a module)."""
from county_app.cli import main

if __name__ == "__main__":
    main()
