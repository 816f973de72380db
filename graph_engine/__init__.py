"""graph_engine: the pure-Python core of the workflow builder.

Parse and validate ``workflow-graph/v1`` JSON, describe node types for the editor, match events
to triggers and run graphs step by step from a checkpointable state. No web framework, database
or queue is imported here: the world is reached through an :class:`Effects` object.

>>> report = validate({"format": "workflow-graph/v1", "name": "x",
...                    "nodes": [{"id": "t", "type": "trigger.manual"}], "edges": []})
>>> report.ok
True

See ``graph_engine/README.md`` for the model, the run state and the step cycle.
"""

from graph_engine.conditions import deciding_leaves, evaluate, explain, explain_rules
from graph_engine.context import build_context, event_from_payload
from graph_engine.credentials import UnknownCredential
from graph_engine.credentials import display as display_credentials
from graph_engine.credentials import referenced as credential_names
from graph_engine.credentials import resolve as resolve_credentials
from graph_engine.effects import CHANNELS, Effects, InMemoryEffects, Outbound
from graph_engine.errors import (
    ConditionError,
    EffectError,
    GraphEngineError,
    GraphError,
    InterpreterError,
    Issue,
    MaxStepsExceeded,
    NodeError,
    SandboxError,
    SandboxResourceError,
    SandboxSecurityError,
    SandboxTimeout,
    TemplateError,
    UnknownNodeTypeError,
    ValidationError,
)
from graph_engine.goals import reached_goal
from graph_engine.graph import DEFAULT_PORT, FORMAT, Graph
from graph_engine.interpreter import Interpreter
from graph_engine.matching import TriggerIndex, TriggerSpec, explain_match
from graph_engine.nodes import NodeCall, NodeResult
from graph_engine.registry import (
    CATEGORIES,
    NodeType,
    Registry,
    default_registry,
    trigger_spec,
    trigger_specs,
)
from graph_engine.render import to_svg
from graph_engine.run_state import RunState, StepRecord
from graph_engine.sandbox import check_code, run_code
from graph_engine.templating import check_template, render, render_value
from graph_engine.urls import address_problem, header_problems, url_problems
from graph_engine.validate import Report, validate, validate_or_raise

__all__ = [
    # graph model and validation
    "DEFAULT_PORT",
    "FORMAT",
    "Graph",
    "Report",
    "validate",
    "validate_or_raise",
    # node types
    "CATEGORIES",
    "NodeType",
    "NodeCall",
    "NodeResult",
    "Registry",
    "default_registry",
    "trigger_spec",
    "trigger_specs",
    "TriggerIndex",
    "TriggerSpec",
    # conditions, templates, custom code, pictures
    "evaluate",
    "explain",
    "explain_rules",
    "reached_goal",
    "explain_match",
    "deciding_leaves",
    "render",
    "render_value",
    "check_template",
    "run_code",
    "check_code",
    "to_svg",
    # running
    "Interpreter",
    "RunState",
    "StepRecord",
    "build_context",
    "event_from_payload",
    "CHANNELS",
    "Effects",
    "InMemoryEffects",
    "Outbound",
    # errors
    "GraphEngineError",
    "GraphError",
    "ValidationError",
    "Issue",
    "UnknownNodeTypeError",
    "NodeError",
    "ConditionError",
    "TemplateError",
    "SandboxError",
    "SandboxTimeout",
    "SandboxResourceError",
    "SandboxSecurityError",
    "InterpreterError",
    "MaxStepsExceeded",
    "EffectError",
    # credentials referenced by name ({{ credentials.x }}) and outbound URL checks
    "UnknownCredential",
    "credential_names",
    "display_credentials",
    "resolve_credentials",
    "address_problem",
    "url_problems",
    "header_problems",
]
