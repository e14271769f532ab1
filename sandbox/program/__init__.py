"""The Pulumi program as the provider sees it, and the ``pulumi up`` that creates it on moto.

This package stands in for the Pulumi engine and the AWS provider:

- :mod:`~sandbox.program.evaluation` evaluates ``__main__.py`` under the Pulumi SDK's mock engine
  and returns every resource it declares, with its inputs (:class:`~sandbox.program.evaluation.Program`);
  the sandbox, the wiring tests, ``make cost`` and the event catalog learn about the system from it
  alone;
- :mod:`~sandbox.program.mocks` plays the AWS provider: the physical names (auto-naming suffixes and
  AWS's length and character rules), ARNs, URLs and IDs AWS would give each resource;
- :mod:`~sandbox.program.deploy` makes the AWS API calls the provider would make, through boto3
  against the local endpoint, in creation order, so the tables, buses, rules, targets, queues,
  topics, log groups and state machine exist under the same names a deployed stack has (and names
  each resource type it does not create, with the reason).
"""
