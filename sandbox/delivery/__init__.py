"""What happens to an event once it is on a bus: checked against its contract, delivered to rule targets.

- :mod:`~sandbox.delivery.contracts`: every event put on a bus, by whoever puts it, is checked
  against its schema in ``event_schemas/events``, as EventBridge builds it from the PutEvents
  entry; a breach is marked on the trace line and recorded, and the event is delivered all the same;
- :mod:`~sandbox.delivery.rules`: Lambda and Step Functions rule targets (which moto cannot
  invoke) are delivered asynchronously and at least once, with each target's retry policy
  (maximum attempts, maximum event age) and dead-letter queue, then Lambda's own asynchronous
  retries and on-failure destination; back-off delays are the real ones scaled down.
"""
