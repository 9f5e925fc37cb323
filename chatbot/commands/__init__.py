"""One module per `bankbot` subcommand (`<name>_cmd.py`): HELP, configure(parser), run(args) -> int."""
