"""Subcommands of the ``outcomes`` command line, one module each (see ``cli/main.py``)."""
