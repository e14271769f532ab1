"""The Lambda runtime: the program's real handler code, run in-process, as Lambda runs it.

- :mod:`~sandbox.functions.runtime` loads each function's module once, with the environment the
  program gives it set while it imports (a cold start), runs it with its timeout and a Lambda
  context, and writes its platform records;
- :mod:`~sandbox.functions.invocation`: one synchronous ``Invoke`` (RequestResponse), answered as
  Lambda answers it: the result serialised as the Python runtime does, or ``FunctionError:
  Unhandled`` with the runtime's error payload, and the ``LogType=Tail`` log tail;
- :mod:`~sandbox.functions.platform_log`: the records Lambda itself writes around each invocation
  (``START``/``END``/``REPORT`` or ``platform.*`` JSON records, the error record), in the
  function's log format;
- :mod:`~sandbox.functions.logs`: what a function prints goes to its own log group, as Lambda
  sends it; anything else goes to the console.
"""
