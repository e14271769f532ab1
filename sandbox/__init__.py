"""The embedded default: run this Pulumi program offline, on an in-process AWS (moto).

``program`` evaluates ``__main__.py`` under the Pulumi SDK's mock engine and returns what it
declares; ``deploy`` creates that on a moto server; ``delivery`` delivers rule targets with
their retry policies and dead-letter queues; ``functions`` runs the real handler code with each
function's environment; ``api`` serves the REST API; ``__main__`` is ``make sandbox``.
"""
