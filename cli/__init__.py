"""The `stepwise` command line: a thin shell over the packages."""
