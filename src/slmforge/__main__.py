"""`python -m slmforge` runs the CLI."""

from slmforge.cli import main

main()
