"""``python -m dopafit`` runs the command-line interface."""

from dopafit.cli import main

if __name__ == "__main__":
    main()
