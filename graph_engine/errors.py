"""The typed error hierarchy of the graph engine.

Every error the engine raises on purpose derives from :class:`GraphEngineError`, and its
class name says what went wrong. Errors about a particular node or edge carry its id so that
callers (the API, the CLI, the editor) can point at it.

>>> issubclass(ValidationError, GraphError)
True
>>> str(NodeError("send", "text is required"))
'node send: text is required'
"""

from __future__ import annotations

__all__ = [
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
]

from dataclasses import asdict, dataclass


class GraphEngineError(Exception):
    """Base class of every error the engine raises on purpose."""


@dataclass(frozen=True)
class Issue:
    """One problem found in a graph.

    ``node_id`` / ``edge_id`` name the element (at most one of them is set; neither for
    graph-level problems), ``field`` the param path inside it when relevant, ``code`` a stable
    machine-readable kind (``unknown_node_type``, ``duplicate_id``, ...) and ``severity`` either
    ``"error"`` or ``"warning"``.
    """

    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    field: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = (
            f"node {self.node_id}"
            if self.node_id is not None
            else f"edge {self.edge_id}"
            if self.edge_id is not None
            else "graph"
        )
        field = f" ({self.field})" if self.field else ""
        return f"{where}{field}: {self.message}"

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


class GraphError(GraphEngineError):
    """The graph JSON is not a workflow graph (wrong shape, wrong format tag)."""


class ValidationError(GraphError):
    """The graph failed validation; ``issues`` lists every error found (not just the first)."""

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        super().__init__("; ".join(str(i) for i in self.issues) or "invalid graph")


class UnknownNodeTypeError(GraphEngineError, KeyError):
    """No node type is registered under this name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "unknown node type"


class NodeError(GraphEngineError):
    """A node failed while running; ``retryable`` says whether a retry may succeed."""

    def __init__(self, node_id: str | None, message: str, *, retryable: bool = False):
        self.node_id = node_id
        self.message = message
        self.retryable = retryable
        super().__init__(f"node {node_id}: {message}" if node_id else message)


class ConditionError(GraphEngineError):
    """A condition rule is malformed (unknown operator, bad value type, bad regex...)."""


class TemplateError(GraphEngineError):
    """A template failed to compile or render, or tried something the sandbox forbids."""


class SandboxError(GraphEngineError):
    """Custom code failed: a syntax/policy error, an exception, or a resource limit."""


class SandboxTimeout(SandboxError):
    """Custom code ran past its CPU-time or wall-clock limit."""


class SandboxResourceError(SandboxError):
    """Custom code exceeded its memory, recursion or output-size limit."""


class SandboxSecurityError(SandboxError):
    """Custom code tried something forbidden (imports, dunder access, open(), ...)."""


class InterpreterError(GraphEngineError):
    """The run state is inconsistent with the graph (unknown node, corrupt state)."""


class MaxStepsExceeded(InterpreterError):
    """A run took more steps than its ``max_steps`` guard allows."""


class EffectError(GraphEngineError):
    """An effect (sending, tagging, HTTP...) failed; ``retryable`` says whether to retry.

    ``retry_after`` (seconds) is the earliest retry the other side asked for (a Telegram 429's
    ``retry_after``, an HTTP ``Retry-After``): the retry policy waits at least that long.
    """

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None):
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(message)
