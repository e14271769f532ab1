"""The embedded default: run this Pulumi program offline, on an in-process AWS (moto).

``program`` evaluates ``__main__.py`` under the Pulumi SDK's mock engine and returns what it
declares; ``deploy`` creates that on a moto server; ``endpoint`` serves it (and refuses clearly
what it cannot emulate); ``emulation`` makes moto answer Lambda, Step Functions and EventBridge
calls as AWS does; ``delivery`` delivers rule targets with their retry policies and dead-letter
queues; ``functions`` and ``invocation`` run the real handler code with each function's
environment; ``api`` serves the REST API; ``shell`` writes the env file users source;
``__main__`` is ``make sandbox``.
"""

from sandbox.aws import moto_imports

# Spares every process that runs moto's Step Functions interpreter the import of EC2 (see moto_imports).
moto_imports.install()
