"""What custom code may touch: compilation, guards, builtins and the import allow-list.

Private to :mod:`graph_engine.sandbox`. This module is also loaded *standalone* by the sandbox
worker (``sandbox/child.py``, started with ``python -I``), so it imports only the standard
library, RestrictedPython and ``sandbox/modules.py`` -- never the ``graph_engine`` package.

Guards: attribute names must be plain ``str`` and may not start with ``_`` or name frame /
generator / code internals (``gi_frame``, ``f_back``, ``co_*``...), ``mro``, ``obj``
(``AttributeError.obj``) or ``format`` / ``format_map``; frames, code, tracebacks, generators
and modules expose no attributes at all; only dicts, lists and sets may be written to. Forbidden
builtins (``open``, ``type``, ``globals``, ``exec``...) and class statements raise
:class:`SecurityViolation`; every violation is recorded, so catching it does not help.
"""

from __future__ import annotations

import ast
import operator
import types

from RestrictedPython import compile_restricted_function, safe_builtins
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.PrintCollector import PrintCollector

# The sandbox worker loads this file and modules.py by path under these same dotted names
# (child.py), so this one relative import serves the host and the worker alike.
from .modules import MODULES, VIOLATIONS, SecurityViolation, violation

__all__ = [
    "SecurityViolation",
    "OutputLimit",
    "VIOLATIONS",
    "compile_user_code",
    "make_globals",
    "PARAMS",
]

FILENAME = "<custom code>"
PARAMS = ("context", "event", "user", "conversation", "nodes", "workflow", "execution")
MAX_CODE_LENGTH = 50_000


class OutputLimit(BaseException):  # noqa: N818 - reported as SandboxResourceError
    """Custom code printed more than allowed."""


# --- compilation -------------------------------------------------------------------------

_FALLBACK = ast.parse("try:\n    return result\nexcept NameError:\n    return None").body


def compile_user_code(code: str):
    """``(code_object, errors)``: the body wrapped as ``def main(<PARAMS>)``.

    The body may ``return`` a value or assign ``result``; errors are RestrictedPython's
    messages (``Line 1: ...``).
    """
    if not isinstance(code, str):
        return None, ["code must be a string"]
    if len(code) > MAX_CODE_LENGTH:
        return None, [f"code is {len(code)} characters long; the limit is {MAX_CODE_LENGTH}"]
    try:
        body = ast.parse(code, FILENAME, "exec")
    except SyntaxError as exc:
        return None, [f"Line {exc.lineno}: SyntaxError: {exc.msg}"]
    except (RecursionError, MemoryError, ValueError) as exc:
        return None, [f"SyntaxError: code too complex to compile ({type(exc).__name__})"]
    body.body.extend(_FALLBACK)
    try:
        result = compile_restricted_function(", ".join(PARAMS), body, "main", filename=FILENAME)
    except (RecursionError, MemoryError) as exc:
        return None, [f"SyntaxError: code too complex to compile ({type(exc).__name__})"]
    if result.errors:
        return None, list(result.errors)
    return result.code, []


# --- guards ------------------------------------------------------------------------------

_BLOCKED_NAMES = frozenset({"format", "format_map", "mro", "obj", "tb_frame", "f_back"})
_BLOCKED_PREFIXES = ("_", "gi_", "cr_", "ag_", "f_", "tb_", "co_", "func_")
_BLOCKED_TYPES = (
    types.FrameType,
    types.CodeType,
    types.TracebackType,
    types.GeneratorType,
    types.CoroutineType,
    types.AsyncGeneratorType,
    types.ModuleType,
)
_MISSING = object()


def guarded_getattr(obj, name, default=_MISSING):
    if type(name) is not str:
        raise violation("attribute names must be plain strings")
    if name.startswith(_BLOCKED_PREFIXES) or name in _BLOCKED_NAMES:
        raise violation(f"access to attribute {name!r} is not allowed")
    if isinstance(obj, _BLOCKED_TYPES):
        raise violation(f"access to attributes of {type(obj).__name__} objects is not allowed")
    if default is _MISSING:
        return getattr(obj, name)
    return getattr(obj, name, default)


def _has(obj, name):
    try:
        guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


def guarded_getitem(obj, key):
    if isinstance(obj, _BLOCKED_TYPES):
        raise violation(f"indexing {type(obj).__name__} objects is not allowed")
    return obj[key]


def guarded_write(obj):
    if type(obj) in (dict, list, set):
        return obj
    raise violation(f"modifying {type(obj).__name__} objects is not allowed")


_INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
}


def inplacevar(op, x, y):
    return _INPLACE[op](x, y)


def make_printer(limit: int):
    """A ``_print_`` collector class that raises :class:`OutputLimit` past ``limit`` chars."""

    class CappedPrinter(PrintCollector):
        size = 0

        def write(self, text):
            CappedPrinter.size += len(text)
            if CappedPrinter.size > limit:
                raise OutputLimit(f"custom code printed more than {limit} characters")
            super().write(text)

    return CappedPrinter


def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name in MODULES:
        return MODULES[name]
    raise violation(f"import of {name!r} is not allowed (allowed: {', '.join(sorted(MODULES))})")


def _forbidden(message: str):
    def forbidden(*args, **kwargs):
        raise violation(message)

    return forbidden


_FORBIDDEN = (
    "open",
    "exec",
    "eval",
    "compile",
    "globals",
    "locals",
    "vars",
    "dir",
    "input",
    "breakpoint",
    "exit",
    "quit",
    "help",
    "memoryview",
    "type",
    "object",
    "super",
    "classmethod",
    "staticmethod",
    "property",
    "setattr",
    "delattr",
)


_NO_CLASSES = "class definitions are not allowed in custom code"


def _builtins() -> dict:
    allowed = {k: v for k, v in safe_builtins.items() if k != "_getattr_"}
    allowed.update(
        {
            "list": list,
            "tuple": tuple,
            "dict": dict,
            "set": set,
            "frozenset": frozenset,
            "sorted": sorted,
            "reversed": reversed,
            "enumerate": enumerate,
            "zip": zip,
            "map": map,
            "filter": filter,
            "min": min,
            "max": max,
            "sum": sum,
            "any": any,
            "all": all,
            "iter": iter,
            "next": next,
            "bytes": bytes,
            "getattr": guarded_getattr,
            "hasattr": _has,
            "__import__": guarded_import,
        }
    )
    allowed.update(
        {name: _forbidden(f"{name}() is not allowed in custom code") for name in _FORBIDDEN}
    )
    allowed["__build_class__"] = _forbidden(_NO_CLASSES)
    return allowed


def make_globals(print_limit: int) -> dict:
    """A fresh global namespace for one run of custom code (one dict: recursion works)."""
    return {
        "__builtins__": _builtins(),
        "__name__": "custom_code",
        "__metaclass__": _forbidden(_NO_CLASSES),
        "_getattr_": guarded_getattr,
        "_getitem_": guarded_getitem,
        "_getiter_": iter,
        "_write_": guarded_write,
        "_inplacevar_": inplacevar,
        "_apply_": lambda f, *a, **kw: f(*a, **kw),
        "_print_": make_printer(print_limit),
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
    }
