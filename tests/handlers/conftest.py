"""Fixtures of the handler tests; they live in ``handler_testkit`` with the helpers."""

from handler_testkit import _block_sockets, _fake_aws_env, _moto_world, aws, lambda_context, load_handler

__all__ = ["_block_sockets", "_fake_aws_env", "_moto_world", "aws", "lambda_context", "load_handler"]
