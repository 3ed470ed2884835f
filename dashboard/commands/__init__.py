"""Subcommands of the ``outcomes`` command line, one module each (see ``dashboard/cli.py``)."""
