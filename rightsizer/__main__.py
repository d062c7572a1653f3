"""``python -m rightsizer`` runs the command line."""

from rightsizer.cli import main

if __name__ == "__main__":
    main()
