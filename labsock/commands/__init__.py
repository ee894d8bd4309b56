"""One module per `python -m labsock` command: HELP, add_arguments(parser), run(args) -> int."""
