"""moto's Step Functions, as strict as AWS about a Choice rule whose ``Variable`` path is absent.

AWS fails the execution with ``States.Runtime`` ("Invalid path '$.detail.amount': The choice
state's condition path references an invalid value."); only ``IsPresent`` may test an absent
path. moto 5.2.5 compares a placeholder instead, no rule matches and the ``Default`` branch runs:
an OrderCreated without an amount would be paid. The sandbox installs :func:`fail_on_missing_variable`
with its other emulations; the contract tests use it to run the definition as AWS would.
"""

from __future__ import annotations

from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_operator_type import (
    ComparisonOperatorType,
)
from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import ComparisonVariable
from moto.stepfunctions.parser.asl.component.state.choice.comparison.variable import NoSuchVariable
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

#: moto's own evaluation, kept before anything patches it (the tests' control runs it).
MOTO_EVAL_BODY = ComparisonVariable._eval_body


def fail_on_missing_variable(self: ComparisonVariable, env: Environment) -> None:
    """Evaluate one Choice rule; an absent ``Variable`` path raises ``States.Runtime``, as in AWS."""
    self.variable.eval(env)
    value = env.stack[-1]
    if isinstance(value, NoSuchVariable) and self.comparison_function.operator_type != ComparisonOperatorType.IsPresent:
        path = self.variable.string_sampler.literal_value
        cause = f"Invalid path '{path}': The choice state's condition path references an invalid value."
        runtime = StatesErrorNameType.StatesRuntime
        raise FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=runtime),
                event_type=HistoryEventType.TaskFailed,
                # EventDetails is a TypedDict in moto; its stub overloads miss this key.
                event_details=EventDetails(  # pyrefly: ignore[no-matching-overload]
                    taskFailedEventDetails=TaskFailedEventDetails(error=runtime.to_name(), cause=cause)
                ),
            )
        )
    self.comparison_function.eval(env)
