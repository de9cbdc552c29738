"""The command line: a thin click layer over functions that do not import click."""
