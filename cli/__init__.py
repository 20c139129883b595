"""The `dsenv` command line: thin Typer commands over the library in `dsenv`."""
