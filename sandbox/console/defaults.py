"""The console's defaults, in a module of their own: ``make sandbox`` reads them before anything heavy is imported."""

#: The console's port unless told otherwise (``make sandbox CONSOLE_PORT=...``; the Makefile says the same).
DEFAULT_PORT = 3030
#: How many orders' traces the console keeps, the newest (``make sandbox CONSOLE_ORDERS=...``).
DEFAULT_ORDERS = 200
