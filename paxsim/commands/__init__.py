"""Subcommands of the ``paxsim`` command, one module each."""
