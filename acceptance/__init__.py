"""``make verify``: one acceptance suite for a deployed stack or the sandbox, through public interfaces only.

HTTP to the stack's API and boto3 to its AWS (or to the sandbox's AWS endpoint). The checks live
in ``acceptance/test_*.py``; :mod:`acceptance.target` resolves what is checked and refuses what
cannot be (exit 2), :mod:`acceptance.inventory` finds what the stack deployed, and
:mod:`acceptance.plugin` reports one line per check with the command that shows it by hand.
"""
