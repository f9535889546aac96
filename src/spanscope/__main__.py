"""``python -m spanscope`` runs the command line."""

from spanscope.cli import main

main()
