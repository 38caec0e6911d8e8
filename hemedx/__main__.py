"""``python -m hemedx``: the same command line as the ``hemedx`` script, for a checkout without an install."""

from hemedx.cli import main

main()
