"""The REST API, served locally as API Gateway serves it (like ``sam local start-api``).

Everything is read from the API Gateway resources the program declares:

- :mod:`~sandbox.api.gateway`: routes, API keys, the method's request validator and the Lambda
  proxy integration (the proxy event in, the function's response out, the 6 MB synchronous
  payload limit);
- :mod:`~sandbox.api.request_validation`: API Gateway's draft-04 body validator, with its
  arbitrary-precision numbers and its ``validationErrorString`` wording;
- :mod:`~sandbox.api.gateway_responses`: API Gateway's own answers (``DEFAULT_4XX``,
  ``BAD_REQUEST_BODY``, ...), their templates rendered with only ``$context`` and
  ``$stageVariables`` substituted, as API Gateway does;
- :mod:`~sandbox.api.access_log`: the stage's access log, one line per request in the declared
  ``accessLogSettings.format``, ``-`` for a variable with no value;
- :mod:`~sandbox.api.http_front`: HTTP/1.1 in front of it all, so every request (unparsable, over
  the 10 MB payload limit, or meeting a failure of the sandbox itself) gets a status line and a
  JSON answer.
"""
