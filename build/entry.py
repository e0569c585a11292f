"""The frozen program's entry point (PyInstaller needs a script, not a module)."""
import multiprocessing

from county_app.cli import main

if __name__ == "__main__":
    # The scan checker (county_app/intake/scanworker.py) runs in a child process, which a frozen program
    # starts by running itself again: freeze_support turns that run into the child.
    multiprocessing.freeze_support()
    main()
