"""Lambda handlers of eda-demo, shipped as one package (``handlers``) to every function.

Entry modules (``create_order``, ``get_order``, ``update_order``, ``notification``) are thin:
they read their environment and build their AWS clients at import, parse the event, call a pure
core (``orders``, ``messages``, ``validation``) and do the I/O. ``contract`` is the one place
where event sources, detail-types and rule patterns are spelled.
"""
