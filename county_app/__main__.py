from .cli import main

if __name__ == "__main__":  # the scan checker's spawned process imports this module again: it must not run
    main()
