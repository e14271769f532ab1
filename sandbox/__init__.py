"""The embedded default: run this Pulumi program offline, on an in-process AWS (moto).

One subpackage per part of what AWS and Pulumi would do, lowest first (a package imports only
those before it; ``tests/test_layout.py`` checks the order, read from the imports):

- ``program``: the program evaluated under Pulumi's mock engine (with mock provider names and
  ARNs), and created on moto by the calls the provider would make;
- ``functions``: the Lambda runtime, running the real handler code with each function's
  environment, Lambda's platform records and its log routing;
- ``api``: the REST API, served as API Gateway serves it;
- ``delivery``: what happens to an event on a bus: its contract checked, its rule targets
  delivered with their retry policies and dead-letter queues;
- ``aws``: moto's server as the AWS endpoint, and where its answers are made AWS's (Lambda
  ``Invoke`` through ``functions`` and ``delivery``, Step Functions, EventBridge patterns).

Above them, at this level: ``runtime`` (the :class:`~sandbox.runtime.Sandbox`, which composes
them), ``ports`` (checked before anything heavy is imported), ``shell`` (the env file users
source), ``catalog`` (the README's event catalog, from the contracts, the evaluated program and the
EventBridge matcher) and, on top, ``__main__`` (``make sandbox``).
"""

from sandbox.aws import moto_imports

# Spares every process that runs moto's Step Functions interpreter the import of EC2 (see moto_imports).
moto_imports.install()
