"""The AWS endpoint: moto's server, and every place where its answers are made AWS's.

- :mod:`~sandbox.aws.endpoint` serves the services the program's resources live in and answers
  anything it cannot emulate faithfully with an AWS-style ``NotImplemented`` (HTTP 501) in the
  client's protocol, and its own failures with ``InternalFailure`` (500);
- :mod:`~sandbox.aws.emulation` patches moto where users' calls would get a different answer
  from AWS: Lambda ``Invoke`` runs the program's functions in-process, Step Functions
  ``StartExecution`` names unnamed executions, EventBridge ``PutRule``/``TestEventPattern`` check
  patterns and ``StartReplay`` replays the archive's time window;
- :mod:`~sandbox.delivery.event_patterns`: EventBridge's checks on event patterns and test events
  (``InvalidEventPatternException`` with EventBridge's messages), as pure functions;
- :mod:`~sandbox.aws.choice_paths`: a Choice rule whose ``Variable`` path is absent fails the
  execution with ``States.Runtime``, as Step Functions does;
- :mod:`~sandbox.aws.moto_speedups` and :mod:`~sandbox.aws.moto_imports` take moto's per-request
  and import overheads out of the way without changing any answer;
- :mod:`~sandbox.aws.in_process` hands the sandbox's own botocore calls to the endpoint's
  application without a socket (the same request, the same answer);
- :mod:`~sandbox.aws.snapshot` keeps the backends as the deploy left them, for a reset to restore.
"""
