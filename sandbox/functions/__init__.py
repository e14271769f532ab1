"""The Lambda runtime: the real handlers, run in-process."""
