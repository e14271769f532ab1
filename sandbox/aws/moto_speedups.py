"""Take moto's per-request overheads out of the sandbox's way, without changing what it does.

Profiling one order through the sandbox showed most of its time in three places that redo the
same work on every call:

- the server lists moto's package directory (``os.listdir`` and ``isdir`` for each of ~150
  services) to route each request, under a lock that serialises all requests;
- JSONPath expressions (``$.detail.id``, event input paths) are compiled by a parser generator
  rebuilt from its grammar on each call;
- the server speaks HTTP/1.0, so every AWS call opens a connection (and a server thread);
- Step Functions parses the state machine's definition (an ANTLR grammar, ~25 ms) again for every
  execution it starts.

The first two results never change while the process runs, so they are computed once; the
server speaks HTTP/1.1, so boto3 keeps its pooled connections. An execution evaluates the parsed
definition of its state machine, one per definition text: the parsed components hold no state of an
execution (that lives in the execution's ``Environment``; the workers a Map or Parallel state
runs are made per evaluation), so executions, concurrent ones too, share it. ``make bench`` shows
the effect.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonpath_ng
import jsonpath_ng.ext
from moto import backends
from moto.moto_server.werkzeug_app import MotoRequestHandler
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

_APPLIED = False


def apply() -> None:
    """Install the caches (idempotent; they are process-wide and semantics-preserving)."""
    global _APPLIED
    if _APPLIED:
        return
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules

    @functools.lru_cache(maxsize=2048)
    def ext_parse(expression: str) -> Any:
        return _ext_parse(expression)

    @functools.lru_cache(maxsize=2048)
    def plain_parse(expression: str) -> Any:
        return _plain_parse(expression)

    _ext_parse, _plain_parse = jsonpath_ng.ext.parse, jsonpath_ng.parse
    jsonpath_ng.ext.parse = ext_parse  # moto.events imports it at call time
    json_path.parse = ext_parse
    result_path.parse = plain_parse

    @functools.lru_cache(maxsize=64)
    def parsed(definition: str) -> Any:
        return AmazonStateLanguageParser.parse(definition)[0]

    ExecutionWorker._get_evaluation_entrypoint = lambda self: parsed(
        self._evaluation_details.state_machine_details.definition
    )
    # Keep-alive: boto3 reuses its pooled connections instead of reconnecting per call.
    MotoRequestHandler.protocol_version = "HTTP/1.1"
    _APPLIED = True
