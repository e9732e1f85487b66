"""The `etims-pipeline` command line: one module per subcommand group, wired in cli.main."""
