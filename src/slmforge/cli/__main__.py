"""`python -m slmforge.cli` runs the CLI."""

from slmforge.cli import main

main()
