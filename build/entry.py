"""The frozen program's entry point (PyInstaller needs a script, not a module).

``cli.main`` calls ``multiprocessing.freeze_support()`` first: the scan
checker and the catalogue checks run in child processes, which a frozen
program starts by running itself again.
"""
from county_app.cli import main

if __name__ == "__main__":
    main()
