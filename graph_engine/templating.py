"""Message templates: Jinja2 in an immutable sandbox with size, loop and work caps.

``{{ user.first_name }}, your code is {{ nodes.coupon.code }}`` renders against the run context.
Missing values (also chained, ``user.fields.x.y``) and ``None`` render as an empty string;
autoescaping is off (chat messages, not HTML); there is no loader (no ``include``/``extends``).

Only the template strings passed in are compiled: values from the context are inserted as
data, so a customer writing ``{{ 7*7 }}`` gets exactly that text back.

Hostile templates fail with :class:`~graph_engine.errors.TemplateError`:

* unsafe attributes (``__class__``, ``mro``, ``__globals__``...), also via ``|attr`` or
  ``[]``, and any use of ``str.format`` / ``format_map`` / ``%``-formatting / ``|format``;
* ``*``, ``+``, ``**``, ``~`` and growing filters/methods whose result would exceed
  ``MAX_VALUE`` characters (checked *before* computing), ``range`` beyond ``MAX_RANGE``;
* more than ``MAX_WORK`` loop iterations + calls per render, or ``TIME_LIMIT`` seconds (checked
  cooperatively at every iteration and call), recursion, output beyond ``max_length``.

>>> render("Hi {{ user.first_name }}{{ user.fields.x.y }}!", {"user": {"first_name": "Sara"}})
'Hi Sara!'
>>> render("{{ event.data.content }}", {"event": {"data": {"content": "{{ 7*7 }}"}}})
'{{ 7*7 }}'
>>> render("{{ ''.__class__ }}", {})
Traceback (most recent call last):
...
graph_engine.errors.TemplateError: unsafe template: access to '__class__' of a str is not allowed
"""

from __future__ import annotations

import contextvars
import time
from functools import lru_cache
from itertools import islice
from typing import Any

import jinja2
from jinja2 import nodes, pass_eval_context
from jinja2.filters import FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.visitor import NodeTransformer

from graph_engine.credentials import CREDENTIALS
from graph_engine.errors import TemplateError

__all__ = ["render", "render_value", "check_template", "MAX_VALUE", "MAX_RANGE", "MAX_WORK"]

MAX_SOURCE = 50_000
MAX_VALUE = 100_000
MAX_RANGE = 10_000
MAX_WORK = 100_000
MAX_INT_BITS = 4096
TIME_LIMIT = 1.0

_budget: contextvars.ContextVar = contextvars.ContextVar("template_budget", default=None)


class _Budget:
    __slots__ = ("work", "deadline")

    def __init__(self):
        self.work = 0
        self.deadline = time.monotonic() + TIME_LIMIT

    def tick(self) -> None:
        self.work += 1
        if self.work > MAX_WORK:
            raise SecurityError(f"the template does more than {MAX_WORK} loop steps and calls")
        if not self.work & 255 and time.monotonic() > self.deadline:
            raise SecurityError(f"the template took longer than {TIME_LIMIT:g} s")


def _tick() -> None:
    budget = _budget.get()
    if budget is not None:
        budget.tick()


def _weight(value: Any, limit: int = MAX_VALUE) -> int:
    """Characters of text (plus one per other item) held by ``value``; stops past ``limit``."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list | tuple):
            total += 1
            stack.extend(item)
        elif isinstance(item, dict):
            total += 1
            stack.extend(item.items())
        else:
            total += 1
    return total


def _refuse_if(condition: bool, what: str) -> None:
    if condition:
        raise SecurityError(f"{what} would exceed {MAX_VALUE} characters")


def _check_binop(op: str, left: Any, right: Any) -> None:
    seqs = (str, list, tuple)
    if op == "*" and isinstance(left, int) and isinstance(right, seqs):
        left, right = right, left
    if op == "*" and isinstance(left, seqs) and isinstance(right, int):
        _refuse_if(_weight(left) * max(right, 0) > MAX_VALUE, "'*' on a sequence")
    elif op == "+" and isinstance(left, seqs) and isinstance(right, seqs):
        _refuse_if(_weight(left) + _weight(right) > MAX_VALUE, "'+'")
    elif op == "%" and isinstance(left, str):
        raise SecurityError("'%' string formatting is not allowed in templates")
    elif isinstance(left, int) and isinstance(right, int):
        if op == "**" and right > 0 and abs(left) > 1:
            bits = abs(left).bit_length() * right
        else:
            bits = max(left.bit_length(), right.bit_length()) * (2 if op == "*" else 1)
        if bits > MAX_INT_BITS:
            raise SecurityError(f"'{op}' would produce a number over {MAX_INT_BITS} bits")


def _check_str_method(text: str, name: str, args: tuple) -> None:
    if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
        _refuse_if(args[0] > MAX_VALUE, f"str.{name}")
    elif name == "expandtabs":
        width = args[0] if args and isinstance(args[0], int) else 8
        _refuse_if(len(text) + text.count("\t") * width > MAX_VALUE, "str.expandtabs")
    elif name == "replace" and len(args) >= 2:
        _check_replace(text, str(args[0]), str(args[1]))
    elif name == "join" and args:
        _refuse_if(_weight(args[0]) + len(text) * _weight(args[0]) > MAX_VALUE, "str.join")


def _check_replace(text: str, old: str, new: str) -> None:
    hits = text.count(old) if old else len(text) + 1
    _refuse_if(len(text) + hits * max(len(new) - len(old), 0) > MAX_VALUE, "replace")


class Missing(jinja2.ChainableUndefined):
    """Missing values (also ``a.b.c`` chains) render as ``""``."""

    __slots__ = ()


class _Env(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr in ("mro", "format", "format_map"):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if attribute.startswith("_") and not (isinstance(obj, dict) and attribute in obj):
            self.unsafe_undefined(obj, attribute)
        return super().getattr(obj, attribute)

    def unsafe_undefined(self, obj: Any, attribute: str):
        raise SecurityError(f"access to {attribute!r} of a {type(obj).__name__} is not allowed")

    def wrap_str_format(self, value: Any):
        if super().wrap_str_format(value) is not None:
            raise SecurityError("str.format / format_map are not allowed in templates")
        return None

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - mirrors jinja2
        _tick()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _check_str_method(owner, getattr(__obj, "__name__", ""), args)
        result = super().call(__context, __obj, *args, **kwargs)
        _refuse_if(
            isinstance(result, str | list | tuple | dict) and _weight(result) > MAX_VALUE,
            "a call result",
        )
        return result


def _safe_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() is limited to {MAX_RANGE} items")
    return numbers


def _loop_guard(iterable: Any):
    for item in iterable:
        _tick()
        yield item


def _cap(value: Any) -> Any:
    _refuse_if(isinstance(value, str) and len(value) > MAX_VALUE, "'~'")
    return value


@pass_eval_context
def _replace(eval_ctx, s, old, new, count=None):
    _check_replace(str(s), str(old), str(new))
    return FILTERS["replace"](eval_ctx, s, old, new, count)


@pass_eval_context
def _join(eval_ctx, value, d="", attribute=None):
    items = list(islice(value, MAX_RANGE + 1)) if value is not None else []
    _refuse_if(
        len(items) > MAX_RANGE or _weight(items) + len(str(d)) * len(items) > MAX_VALUE, "join"
    )
    return FILTERS["join"](eval_ctx, items, d, attribute)


def _limited(name: str, param: str, maximum: int):
    """Wrap a plain filter whose first argument (``param``) sizes its result."""
    original = FILTERS[name]

    def limited(value, *args, **kwargs):
        size = args[0] if args else kwargs.get(param)
        if isinstance(size, int) and size > maximum:
            raise SecurityError(f"the {name} filter's {param} is limited to {maximum}")
        return original(value, *args, **kwargs)

    return limited


def _indent(s, width=4, first=False, blank=False):
    text, pad = str(s), width if isinstance(width, int) else len(str(width))
    _refuse_if(len(text) + (text.count("\n") + 1) * max(pad, 0) > MAX_VALUE, "indent")
    return FILTERS["indent"](s, width, first, blank)


@pass_eval_context
def _tojson(eval_ctx, value, indent=None):
    if isinstance(indent, int) and indent > 16:
        raise SecurityError("the tojson filter's indent is limited to 16")
    return FILTERS["tojson"](eval_ctx, value, indent)


@jinja2.pass_environment
def _wordwrap(env, s, width=79, break_long_words=True, wrapstring=None, break_on_hyphens=True):
    text, glue = str(s), str(wrapstring or "\n")
    _refuse_if(len(text) + (len(text) + 1) * len(glue) > 2 * MAX_VALUE, "wordwrap")
    return FILTERS["wordwrap"](env, s, width, break_long_words, wrapstring, break_on_hyphens)


def _no_format(*args, **kwargs):
    raise SecurityError("the format filter is not allowed in templates; use ~ to join text")


class _Guard(NodeTransformer):
    """Wraps every loop's iterable in ``_loop_guard`` and every ``~`` in ``_cap``."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        node = self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "_loop_guard", [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Filter:
        node = self.generic_visit(node)
        return nodes.Filter(node, "_cap", [], [], None, None, lineno=node.lineno)


def _make_env() -> _Env:
    env = _Env(
        autoescape=False,
        undefined=Missing,
        loader=None,
        finalize=lambda value: "" if value is None else value,
    )
    env.globals.pop("lipsum", None)
    env.globals["range"] = _safe_range
    env.globals["credentials"] = CREDENTIALS  # references only: see graph_engine.credentials
    env.filters.update(
        {
            "_loop_guard": _loop_guard,
            "_cap": _cap,
            "replace": _replace,
            "join": _join,
            "format": _no_format,
            "center": _limited("center", "width", MAX_VALUE),
            "batch": _limited("batch", "linecount", MAX_RANGE),
            "slice": _limited("slice", "slices", MAX_RANGE),
            "indent": _indent,
            "tojson": _tojson,
            "wordwrap": _wordwrap,
        }
    )
    return env


_ENV = _make_env()


@lru_cache(maxsize=2048)
def _compile(source: str) -> jinja2.Template:
    if len(source) > MAX_SOURCE:
        raise TemplateError(f"template is {len(source)} characters long; limit {MAX_SOURCE}")
    tree = _Guard().visit(_ENV.parse(source))
    return _ENV.template_class.from_code(_ENV, _ENV.compile(tree), _ENV.make_globals(None), None)


def _message(exc: BaseException) -> str:
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"syntax error on line {exc.lineno}: {exc.message}"
    if isinstance(exc, SecurityError):
        return f"unsafe template: {exc}"
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined value: {exc}"
    if isinstance(exc, RecursionError):
        return "template recursion is too deep"
    return f"template failed: {type(exc).__name__}: {exc}"


def _generate(compiled: jinja2.Template, context: dict, max_length: int) -> str:
    parts, size = [], 0
    stream = compiled.generate(context)
    try:
        for chunk in stream:
            size += len(chunk)
            if size > max_length:
                raise TemplateError(f"rendered text is longer than {max_length} characters")
            parts.append(chunk)
    finally:
        stream.close()
    return "".join(parts)


def render(template: str, context: dict, *, max_length: int = 20_000) -> str:
    """Render ``template`` against ``context``; :class:`TemplateError` on any failure."""
    if type(template) is not str:
        raise TemplateError(f"a template must be a string, not {type(template).__name__}")
    if "{" not in template:  # nothing to render: the common case for plain texts
        if len(template) > max_length:
            raise TemplateError(f"rendered text is longer than {max_length} characters")
        return template
    token = _budget.set(_Budget())
    try:
        return _generate(_compile(template), context, max_length)
    except TemplateError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure of user templates is a TemplateError
        raise TemplateError(_message(exc)) from None
    finally:
        _budget.reset(token)


def render_value(value: Any, context: dict, *, max_length: int = 20_000) -> Any:
    """``value`` with every string rendered; dicts (values only), lists and tuples recursed.

    >>> render_value({"to": "{{ user.email }}", "n": 3, "tags": ["{{ 1 + 1 }}"]},
    ...              {"user": {"email": "a@b.c"}})
    {'to': 'a@b.c', 'n': 3, 'tags': ['2']}
    """
    if isinstance(value, str):
        return render(value, context, max_length=max_length)
    if isinstance(value, dict):
        return {k: render_value(v, context, max_length=max_length) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(render_value(v, context, max_length=max_length) for v in value)
    return value


def check_template(template: str) -> str | None:
    """The syntax error of ``template`` as a message, or ``None`` when it compiles.

    >>> check_template("{{ user.name }"), check_template("Hi {{ user.first_name }}")
    ("syntax error on line 1: unexpected '}'", None)
    """
    try:
        _compile(template)
    except TemplateError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001
        return _message(exc)
    return None
