"""``python -m rightsizer`` runs the command line."""

from rightsizer.cli import main

main()
