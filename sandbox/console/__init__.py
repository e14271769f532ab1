"""The sandbox's console: one page on 127.0.0.1 that shows each order's journey, live, and injects faults.

``recorder`` is the observer the sandbox's parts call (the API, the dispatcher, the function
runtime, the emulation, the contract log) and the bounded store of what they reported; ``faults``
holds the faults a user injects; ``views`` turns the recorder, the program and moto's state into
what the page shows (timelines, the architecture, dead-letter queues, alarms); ``server`` serves the
page and its JSON API with Host and Origin checked on every request; ``static/`` is the page itself
(plain HTML, JS and CSS, served from here: no build step, nothing from the network).
"""

from sandbox.console.defaults import DEFAULT_ORDERS, DEFAULT_PORT

__all__ = ["DEFAULT_ORDERS", "DEFAULT_PORT"]
