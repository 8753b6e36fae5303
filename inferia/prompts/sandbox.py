"""The sandbox templates render in: jinja2's immutable sandbox, narrowed further.

What a template may do, and why each bound exists:
- no ``include``/``import``/``extends`` (and an empty loader behind them), no macros,
  call blocks, block ``set`` or filter blocks: a prompt needs none, and each is a way
  to build unbounded text or recursion outside the output counter;
- only names it declares as variables (checked when it is written) and ``range``;
- a short list of filters and of ``str``/``dict``/``list`` methods; everything else
  (``''.__class__``, ``format``, ``center``...) is refused;
- every loop iteration, string built by ``~``/``+``/``*``/``join``/``replace`` and
  chunk of output is counted against ``TemplateSettings``, and a deadline is checked as
  it goes, so a render stops by itself (no thread to kill) and never allocates more
  than a bounded amount.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import DictLoader, StrictUndefined, meta, nodes, pass_context
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from inferia.config import TemplateSettings
from inferia.core.errors import BadRequestError, ValidationError

BUDGET = "_inferia_budget"
_LOOP_FILTER = "_inferia_loop"
_CONCAT_FILTER = "_inferia_concat"
_REFUSED_NODES: dict[type[nodes.Node], str] = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Extends: "extends",
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.AssignBlock: "block set",
    nodes.FilterBlock: "filter block",
}
_SAFE_FILTERS = (
    "abs", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first",
    "float", "int", "items", "last", "length", "list", "lower", "map", "max", "min",
    "reject", "rejectattr", "reverse", "round", "select", "selectattr", "sort", "string",
    "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "wordcount",
)  # fmt: skip
_SAFE_METHODS: dict[type, frozenset[str]] = {
    str: frozenset(
        [
            "lower",
            "upper",
            "strip",
            "lstrip",
            "rstrip",
            "title",
            "capitalize",
            "casefold",
            "startswith",
            "endswith",
            "split",
            "rsplit",
            "splitlines",
            "count",
            "find",
            "rfind",
            "isdigit",
            "isalpha",
            "isalnum",
            "isspace",
            "islower",
            "isupper",
            "removeprefix",
            "removesuffix",
            "replace",
        ]
    ),
    dict: frozenset(("items", "keys", "values", "get")),
    list: frozenset(("index", "count")),
    tuple: frozenset(("index", "count")),
}


class TemplateRefused(ValidationError):
    """A template that may not be stored (syntax, a refused construct, an undeclared
    name): 422 on the management API."""


class RenderRefused(BadRequestError):
    """A render that was refused or stopped (variables, size, time, a sandbox
    violation): 400, with ``param`` naming the field when one is to blame."""


class _Budget:
    """One render's counters; the sandbox finds it in the render context."""

    __slots__ = ("deadline", "iterations", "limits")

    def __init__(self, limits: TemplateSettings) -> None:
        self.limits = limits
        self.iterations = 0
        self.deadline = time.monotonic() + limits.render_timeout_ms / 1000

    def tick(self) -> None:
        self.iterations += 1
        if self.iterations > self.limits.max_loop_iterations:
            raise RenderRefused(
                f"the template ran more than {self.limits.max_loop_iterations} loop iterations"
            )
        if self.iterations % 256 == 0:
            self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderRefused(f"the template took longer than {self.limits.render_timeout_ms} ms")

    def check_size(self, size: int) -> None:
        if size > self.limits.max_output_chars:
            raise RenderRefused(
                f"the rendered template exceeds {self.limits.max_output_chars} characters"
            )


def budget_of(context: Context) -> _Budget:
    budget = context.get(BUDGET)
    if not isinstance(budget, _Budget):  # a template that rebound the name
        raise SecurityError("the render budget is missing")
    return budget


def _size(value: Any, limit: int) -> int:
    """Roughly the characters ``value`` prints as: strings by length, containers by
    their items' (every item at least 1). Stops once past ``limit``, so measuring a list
    of a thousand references to one big list costs ``limit`` steps, not its size."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if not isinstance(value, list | tuple):
        return 0
    total = 0
    for item in value:
        total += max(_size(item, limit - total), 1)
        if total > limit:
            break
    return total


@pass_context
def _loop(context: Context, iterable: Iterable[Any]) -> Iterator[Any]:
    budget = budget_of(context)
    for item in iterable:
        budget.tick()
        yield item


@pass_context
def _concat(context: Context, parts: list[Any]) -> str:
    budget = budget_of(context)
    budget.check_size(_size(parts, budget.limits.max_output_chars))
    texts = [str(part) for part in parts]
    budget.check_size(sum(map(len, texts)))
    return "".join(texts)


@pass_context
def _join(context: Context, value: Iterable[Any], separator: str = "") -> str:
    budget = budget_of(context)
    texts, total = [], 0
    for item in value:
        text = str(item)
        total += len(text) + len(separator)
        budget.check_size(total)
        texts.append(text)
    return separator.join(texts)


@pass_context
def _replace(context: Context, value: Any, old: str, new: str, count: int = -1) -> str:
    text = str(value)
    _check_replace(budget_of(context), text, old, new, count)
    return text.replace(old, new, count)


def _check_replace(budget: _Budget, text: str, old: str, new: str, count: int) -> None:
    hits = text.count(old) if old else len(text) + 1
    if count >= 0:
        hits = min(hits, count)
    budget.check_size(len(text) + hits * max(len(new) - len(old), 0))


class PromptSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(("+", "*", "**", "%"))

    def __init__(self) -> None:
        # An empty loader: include/import have nothing to find even if they got through.
        super().__init__(loader=DictLoader({}), undefined=StrictUndefined, autoescape=False)
        self.globals = {"range": self.globals["range"]}
        builtin = self.filters
        self.filters = {name: builtin[name] for name in _SAFE_FILTERS}
        self.filters |= {
            "join": _join,
            "replace": _replace,
            _LOOP_FILTER: _loop,
            _CONCAT_FILTER: _concat,
        }

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        budget = budget_of(context)
        if operator_ == "%" and isinstance(left, str):
            raise SecurityError("'%' string formatting is not allowed")
        if operator_ == "**":
            if not isinstance(right, int | float) or abs(right) > 64:
                raise SecurityError("exponents are limited to 64")
            if isinstance(left, int) and left.bit_length() * abs(right) > 4096:
                raise SecurityError("integers are limited to 4096 bits")
        limit = budget.limits.max_output_chars
        if operator_ == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    budget.check_size(max(_size(seq, limit), 1) * times)
            both_ints = isinstance(left, int) and isinstance(right, int)
            if both_ints and left.bit_length() + right.bit_length() > 4096:
                raise SecurityError("integers are limited to 4096 bits")
        if operator_ == "+" and isinstance(left, str | list | tuple):
            budget.check_size(_size(left, limit) + _size(right, limit))
        return self.binop_table[operator_](left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = budget_of(__context)
        budget.check_time()
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        allowed = __obj is __self.globals["range"] or (
            isinstance(owner, LoopContext) and name in ("cycle", "changed")
        )
        if not allowed:
            methods = _SAFE_METHODS.get(type(owner))
            if methods is None or name not in methods:
                raise SecurityError(f"calling {name or type(__obj).__name__!r} is not allowed")
        if isinstance(owner, str) and name == "replace":
            _check_replace(budget, owner, *args[:2], *(args[2:3] or (-1,)))
        result = super().call(__context, __obj, *args, **kwargs)
        budget.check_size(_size(result, budget.limits.max_output_chars))
        return result

    def check(self, source: str, declared: Iterable[str], where: str) -> nodes.Template:
        """Parse and vet ``source``; the AST with loops and ``~`` routed through the
        budget. ``where`` names the field in errors."""
        try:
            tree = self.parse(source)
        except TemplateError as exc:
            raise TemplateRefused(f"template syntax error: {exc}", param=where) from None
        for node in tree.find_all(nodes.Node):
            refused = _REFUSED_NODES.get(type(node))
            if refused is not None:
                raise TemplateRefused(f"'{refused}' is not allowed in a template", param=where)
            if isinstance(node, nodes.For) and node.recursive:
                raise TemplateRefused("recursive loops are not allowed", param=where)
            if isinstance(node, nodes.NSRef):
                raise TemplateRefused("namespaces are not allowed", param=where)
        undeclared = meta.find_undeclared_variables(tree) - set(declared) - {"range"}
        if undeclared:
            names = ", ".join(sorted(undeclared))
            raise TemplateRefused(f"the template uses undeclared variables: {names}", param=where)
        _route_through_budget(tree)
        return tree

    def compile_checked(self, tree: nodes.Template) -> Callable[[dict[str, Any]], Iterator[str]]:
        template = self.from_string(tree)
        return template.generate


def _route_through_budget(tree: nodes.Template) -> None:
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Filter(loop.iter, _LOOP_FILTER, [], [], None, None)
    for parent in list(tree.find_all(nodes.Node)):
        for field in parent.fields:
            value = getattr(parent, field, None)
            if isinstance(value, nodes.Concat):
                setattr(parent, field, _budgeted_concat(value))
            elif isinstance(value, list):
                value[:] = [
                    _budgeted_concat(v) if isinstance(v, nodes.Concat) else v for v in value
                ]


def _budgeted_concat(node: nodes.Concat) -> nodes.Filter:
    return nodes.Filter(nodes.List(node.nodes), _CONCAT_FILTER, [], [], None, None)
