"""HTML for every document, from Jinja2 templates run in Jinja's sandbox. No PDF engine here.

Templates come from the kit's own `templates/` first, then the bundled ones
(a ChoiceLoader, as in Pelican), so an author can override one template or the
CSS without copying the rest. Autoescape is on and undefined names are errors.

A kit is shared like a document, so its templates are untrusted: building it must
not run its author's code, read files outside templates/, or never end.

Sandbox. Templates run in `ImmutableSandboxedEnvironment`: no attribute whose name
starts with `_` (so no walk through `__class__` or `__globals__`), no changing of
lists and dicts, and only these can be called: macros, `caller`, `super()`, the loop,
Jinja's helpers (`range`, `dict`, `cycler`, `joiner`, `namespace`, `lipsum`) and the
methods of strings, numbers, dates, lists, dicts and the course model's objects.
Anything else (a function or a class reached some other way) is refused.

Files. Templates, includes, imports and stylesheets are read by name from templates/
only (the kit's, then the bundled one): no absolute name, no `..`, and no symbolic
link that resolves out of the folder. Jinja's FileSystemLoader follows every link (its
`followlinks` only concerns listing templates), hence `TemplateFolder`. Each file must
be a regular file (no folder, FIFO or device) of at most 256 KiB, checked with stat
before it is opened, of which at most 256 KiB + 1 byte is read, in UTF-8.

Limits, for each document (compiling its templates included):

- RENDER_SECONDS = 10 of wall-clock time. The bundled courses take about 0.1 s per
  document; the deadline is checked at every loop iteration, call, attribute lookup,
  operator, filter and piece of output, so nested loops stop within the limit.
- MAX_OUTPUT = 8 Mi characters written by the templates, counting what macros and
  `set`, `call` and `filter` blocks capture before it is printed (the largest bundled
  document is about 70 KB).

A string or list that a template makes is held to MAX_OUTPUT as well. The operations
that can make a result much larger than their inputs are checked before they run:
`*`, `**`, `+`, `%`, `~`, `format`, `join`, `replace`, `indent`, `wordwrap`, `urlize`,
`translate`, `expandtabs`, `strftime`, `lipsum`; a number given to a method or to
`center`, `batch` or `slice` is at most 100000 (the sandbox limits `range` to as many
items); `tojson` indents by 16 at most; `md` takes at most 1 MiB (a module's limit).
Going past the time or output limit stops the document with an error that names the
template; the other limits are template errors at their line.

Not covered: a single operation whose cost these checks cannot see beforehand (say,
printing a list that a namespace has nested inside itself thirty times) runs to its
end. Bounding that would take a separate process with operating-system limits.

Errors. A syntax error, a runtime error (an undefined name, a division by zero, a
refused attribute or call, a macro or include that never ends) or a refused file is a
KitError `templates/NAME:LINE: template error: ...`, at the template line Jinja knows.
"""
from __future__ import annotations

import codecs
import functools
import os
import re
import stat
import string
import threading
import time
import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path

import jinja2
from jinja2.compiler import CodeGenerator
from jinja2.runtime import BlockReference, LoopContext, Macro, Undefined
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import Cycler, Joiner, Namespace, generate_lorem_ipsum

from kit.errors import KitError, Problem
from kit.links import url_text as _url_text  # the visible text of a printed URL
from kit.markdown import render_markdown
from kit.paths import bundled_templates
from kit.safefs import TooLarge as FileTooLarge, Unsafe, read_bounded

RENDER_SECONDS = 10.0
MAX_OUTPUT = 8 * 2**20            # characters (and items of a list a template makes)
MAX_TEMPLATE_BYTES = 256 * 1024   # one template or stylesheet
MAX_NUMBER = MAX_RANGE            # a number given to a method, center, batch, slice, lipsum
MAX_INT_BITS = 2**16              # a number a template computes (about 20,000 digits)
MAX_MARKDOWN = 2**20              # the text given to `md`, as for a module
MAX_JSON_INDENT = 16

# The objects whose methods a template may call, besides those of the model's modules.
SAFE_OWNERS = (str, int, float, dict, list, tuple, set, frozenset, range, date, clock_time,
               timedelta, LoopContext, Cycler, Joiner, Namespace)
MODEL_MODULES = frozenset({"kit.model", "kit.views", "kit.delivery"})
_BOUND = (types.MethodType, types.BuiltinMethodType)


class TemplateFileRefused(Exception):
    """A template or stylesheet that is not read; `shown` is its path as reported."""

    def __init__(self, shown: str, message: str, line: int = 1):
        super().__init__(message)
        self.shown, self.message, self.line = shown, message, line


class LimitExceeded(Exception):
    """A document went past RENDER_SECONDS or MAX_OUTPUT."""


class TooLarge(SecurityError):
    """An operation that would make a value larger than the limits allow."""


# --- reading templates ---------------------------------------------------------------

class TemplateFolder(jinja2.BaseLoader):
    """Templates by name from one folder, as regular files that resolve inside it.

    A name that is absolute or uses `..` is a SecurityError (reported at the line that
    names it); a file that links out of the folder, is not a regular file, is too large
    or is not UTF-8 is refused (TemplateFileRefused), not skipped for the next folder.
    Only a file that does not exist lets the ChoiceLoader look in the next folder.
    """

    def __init__(self, folder: Path, shown: str):
        self.folder = os.path.realpath(folder)
        self.shown = shown  # how the folder appears in messages: "templates" or a full path

    def get_source(self, environment, template):
        pieces = template_pieces(template)
        shown = "/".join([self.shown] + pieces)
        path = os.path.join(self.folder, *pieces)
        real = os.path.realpath(path)
        if not (real + os.sep).startswith(self.folder + os.sep):
            raise TemplateFileRefused(shown, "the file links to a place outside templates/; it is not read")
        try:
            info = os.stat(real)
        except (FileNotFoundError, NotADirectoryError):
            raise jinja2.TemplateNotFound(template) from None
        except OSError as exc:
            raise TemplateFileRefused(shown, f"cannot be read: {exc.strerror}") from None
        source = read_template_file(real, info, shown)
        known = getattr(environment, "template_files", None)
        if known is not None:
            known.add(shown)

        def uptodate() -> bool:
            try:
                return os.path.realpath(path) == real and os.stat(real).st_mtime_ns == info.st_mtime_ns
            except OSError:
                return False

        # The filename is the path as reported: Jinja puts it in tracebacks and syntax errors.
        return source, shown, uptodate


def template_pieces(name) -> list[str]:
    """The parts of a template name, which must be a relative path without `..`."""
    if not isinstance(name, str):
        raise SecurityError(f"a template is named by a string, not by {type(name).__name__}")
    quoted = repr(name if len(name) <= 80 else name[:77] + "...")
    if name.startswith("/"):
        raise SecurityError(f"{quoted}: a template is named by its path inside templates/, "
                            "not by an absolute path")
    if "\\" in name or not name.isprintable():
        raise SecurityError(f"{quoted} is not a valid template name")
    pieces = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in pieces:
        raise SecurityError(f"{quoted}: '..' may not be used in a template name; "
                            "templates are read from templates/ only")
    if not pieces:
        raise jinja2.TemplateNotFound(name)
    return pieces


def read_template_file(real: str, info: os.stat_result, shown: str) -> str:
    """The text of a regular file of at most MAX_TEMPLATE_BYTES, in UTF-8 (a BOM is dropped)."""
    limit = f"{MAX_TEMPLATE_BYTES // 1024} KiB"
    if not stat.S_ISREG(info.st_mode):
        raise TemplateFileRefused(shown, "not a regular file; it is not read")
    if info.st_size > MAX_TEMPLATE_BYTES:
        raise TemplateFileRefused(shown, f"larger than {limit}, the limit for a template or stylesheet")
    try:  # checked again on what is opened (kit.safefs): the file may have changed since
        data = read_bounded(Path(real), MAX_TEMPLATE_BYTES)
    except FileTooLarge:  # it grew since it was looked at
        raise TemplateFileRefused(shown, f"larger than {limit}, the limit for a template or stylesheet") from None
    except Unsafe:
        raise TemplateFileRefused(shown, "the file changed while it was read; it is not read") from None
    except OSError as exc:
        raise TemplateFileRefused(shown, f"cannot be read: {exc.strerror}") from None
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise TemplateFileRefused(shown, "not valid UTF-8; save the file as UTF-8", line) from None


# --- checks on what templates compute ------------------------------------------------

def _number(value, what: str = "an argument") -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        raise TooLarge(f"a number larger than {MAX_NUMBER} is not allowed as {what}")


def _fits(size: int) -> None:
    if size > MAX_OUTPUT:
        raise TooLarge(f"the result would be larger than {MAX_OUTPUT // 2**20} Mi characters or items")


def _checked(value):
    """`value`, when it is within the size limits."""
    if isinstance(value, (str, list, tuple, dict, set, frozenset, bytes)):
        _fits(len(value))
    elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TooLarge(f"a number of more than {MAX_INT_BITS} bits is not allowed")
    return value


def _chars(value) -> int:
    return len(value) if isinstance(value, str) else 1


def _width(digits: str | None) -> int:
    if not digits:
        return 0
    if len(digits) > 9:
        raise TooLarge("a width or precision that large is not allowed")
    return int(digits)


_PERCENT = re.compile(r"%(?:\(([^)]*)\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?([diouxXeEfFgGcrsa%])")


def _percent_size(text: str, values) -> None:
    """Checks `text % values` (and the `format` filter) before it runs."""
    positional = list(values) if isinstance(values, tuple) else [values]
    total, index = len(text), 0
    for match in _PERCENT.finditer(text):
        key, width, precision, conversion = match.groups()
        if conversion == "%":
            continue
        if width == "*" or precision == "*":
            raise TooLarge("a width taken from the arguments ('*') is not allowed")
        total += _width(width) + _width(precision)
        if key is not None and isinstance(values, Mapping):
            total += _chars(values.get(key))
        else:
            total += _chars(positional[index] if index < len(positional) else None)
            index += 1
        _fits(total)


def _format_size(text: str, args: tuple, kwargs: dict) -> None:
    """Checks `text.format(...)` before it runs: its widths and what each field prints."""
    total, auto = 0, 0
    for literal, field, spec, _ in string.Formatter().parse(text):
        total += len(literal)
        if field is None:
            continue
        if spec and "{" in spec:
            raise TooLarge("a width taken from the arguments is not allowed in format()")
        total += sum(_width(d) for d in re.findall(r"\d+", spec or ""))
        first = re.split(r"[.\[]", field, maxsplit=1)[0]
        if first == "":
            value, auto = (args[auto] if auto < len(args) else None), auto + 1
        elif first.isdigit():
            value = args[int(first)] if len(first) < 6 and int(first) < len(args) else None
        else:
            value = kwargs.get(first)
        total += _chars(value)
        _fits(total)


def _join_size(separator, items) -> list:
    """Checks joining `items` with `separator`; returns the items as a list."""
    items = items if isinstance(items, (list, tuple)) else list(items)
    if isinstance(separator, str):
        _fits(len(separator) * max(len(items) - 1, 0) + sum(_chars(i) for i in items))
    return items


def _replace_size(text, old, new, count=None) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return
    if len(new) <= len(old):
        return
    times = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    _fits(len(text) + times * (len(new) - len(old)))


def _argument(rest: tuple, kwargs: dict, index: int, name: str, default=None):
    if len(rest) > index:
        return rest[index]
    return kwargs.get(name, default)


def _check_indent(value, rest, kwargs):
    width = _argument(rest, kwargs, 0, "width", 4)
    if isinstance(value, str):
        step = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        _fits(len(value) + (value.count("\n") + 1) * max(step, 0))


def _check_wordwrap(value, rest, kwargs):
    width = _argument(rest, kwargs, 0, "width", 79)
    wrap = _argument(rest, kwargs, 2, "wrapstring", None)
    if isinstance(value, str) and isinstance(wrap, str) and isinstance(width, int):
        breaks = len(value) // max(width, 1) + value.count("\n") + 1
        _fits(len(value) + breaks * len(wrap))


def _check_urlize(value, rest, kwargs):
    extra = sum(len(v) for v in (kwargs.get("target"), kwargs.get("rel"),
                                  rest[2] if len(rest) > 2 else None,
                                  rest[3] if len(rest) > 3 else None) if isinstance(v, str))
    if isinstance(value, str) and extra:
        _fits(len(value) + (len(value.split()) + 1) * extra)


def _check_sum(value, rest, kwargs):
    if not isinstance(_argument(rest, kwargs, 1, "start", 0), (int, float)):
        raise SecurityError("sum adds numbers; join strings with join")


def _check_json(value, rest, kwargs):
    indent = _argument(rest, kwargs, 0, "indent", None)
    if isinstance(indent, str) or (isinstance(indent, int) and indent > MAX_JSON_INDENT):
        raise TooLarge(f"tojson indents by at most {MAX_JSON_INDENT} spaces")


def _check_markdown(value, rest, kwargs):
    if isinstance(value, str) and len(value) > MAX_MARKDOWN:
        raise TooLarge(f"md takes at most {MAX_MARKDOWN // 2**20} MiB of text")


# Checks made before a filter runs: (value, other positional arguments, keyword arguments).
FILTER_CHECKS = {
    "center": lambda v, a, k: _number(_argument(a, k, 0, "width"), "a width"),
    "batch": lambda v, a, k: _number(_argument(a, k, 0, "linecount"), "a batch size"),
    "slice": lambda v, a, k: _number(_argument(a, k, 0, "slices"), "a number of slices"),
    "indent": _check_indent,
    "wordwrap": _check_wordwrap,
    "urlize": _check_urlize,
    "replace": lambda v, a, k: _replace_size(v, _argument(a, k, 0, "old"), _argument(a, k, 1, "new"),
                                             _argument(a, k, 2, "count")),
    "format": lambda v, a, k: _percent_size(v, k or tuple(a)) if isinstance(v, str) else None,
    "sum": _check_sum,
    "tojson": _check_json,
    "md": _check_markdown,
    "mdi": _check_markdown,
}


def _check_str_method(name: str, text: str, args: tuple, kwargs: dict) -> tuple:
    """Checks a call of a string's method before it runs; returns its arguments."""
    if name == "join" and args:
        args = (_join_size(text, args[0]),) + args[1:]
    elif name == "replace" and len(args) >= 2:
        _replace_size(text, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count"))
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(size, int):
            _fits(len(text) + text.count("\t") * max(size, 0))
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        _fits(len(text) * max(longest, 1))
    return args


def _check_binop(operator: str, left, right) -> None:
    sequences = (str, list, tuple)
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, sequences) and isinstance(times, int):
                _fits(len(seq) * max(times, 0))
                return
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TooLarge(f"a number of more than {MAX_INT_BITS} bits is not allowed")
    elif operator == "**":
        if (isinstance(left, int) and isinstance(right, int) and right > 0
                and max(left.bit_length(), 1) * right > MAX_INT_BITS):
            raise TooLarge(f"a number of more than {MAX_INT_BITS} bits is not allowed")
    elif operator == "+":
        if isinstance(left, sequences) and isinstance(right, sequences):
            _fits(len(left) + len(right))
    elif operator == "%" and isinstance(left, str):
        _percent_size(left, right)


def _lipsum(n=5, html=True, min=20, max=100):  # noqa: A002 - Jinja's own argument names
    for value in (n, min, max):
        _number(value, "an argument of lipsum")
    if isinstance(n, int) and isinstance(max, int):
        _fits(n * max * 12)  # a word of lorem ipsum is at most 12 characters with its space
    return generate_lorem_ipsum(n, html, min, max)


class _StrFormat:
    """`text.format` or `text.format_map` as the sandbox wraps it, with its size checked."""

    def __init__(self, text: str, call, mapping: bool):
        self._text, self._call, self._mapping = text, call, mapping

    def __call__(self, *args, **kwargs):
        if self._mapping:
            _format_size(self._text, (), args[0] if len(args) == 1 and isinstance(args[0], Mapping) else {})
        else:
            _format_size(self._text, args, kwargs)
        return self._call(*args, **kwargs)


# --- the sandbox --------------------------------------------------------------------

class _Generator(CodeGenerator):
    """Jinja's code generator, with every piece of output, every loop and every `~`
    going through the environment's accounting (`output`, `looped`, `joined`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._loop_iterables: set[int] = set()

    def _output_const_repr(self, group) -> str:
        return f"environment.output({super()._output_const_repr(group)})"

    def _output_child_pre(self, node, frame, finalize) -> None:
        self.write("environment.output(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node, frame, finalize) -> None:
        super()._output_child_post(node, frame, finalize)
        self.write(")")

    def visit_For(self, node, frame) -> None:  # noqa: N802 - Jinja's visitor names
        self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)

    def visit(self, node, *args, **kwargs):
        if id(node) in self._loop_iterables:
            self.write("environment.looped(")
            super().visit(node, *args, **kwargs)
            self.write(")")
            return None
        return super().visit(node, *args, **kwargs)

    def visit_Concat(self, node, frame) -> None:  # noqa: N802 - Jinja's visitor names
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.joined({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


@dataclass
class _Budget:
    deadline: float
    written: int = 0


class KitSandbox(ImmutableSandboxedEnvironment):
    """The sandbox with the kit's rules on calls, sizes and time (see the module's docstring)."""

    code_generator_class = _Generator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options):
        super().__init__(**options)
        self.globals["lipsum"] = _lipsum
        self.template_files: set[str] = set()  # paths as reported, to find template frames
        self._state = threading.local()

    def guard_filters(self) -> None:
        """Wraps every filter with the time and size checks; call it after adding filters."""
        for name, function in list(self.filters.items()):
            if not getattr(function, "kit_guarded", False):
                self.filters[name] = self._guarded(name, function)

    def _guarded(self, name: str, function):
        skip = 2 if getattr(function, "jinja_pass_arg", None) is not None else 1
        check = FILTER_CHECKS.get(name)

        @functools.wraps(function)
        def guarded(*args, **kwargs):
            self.tick()
            if len(args) >= skip:
                if name == "join":
                    items = _join_size(_argument(args[skip:], kwargs, 0, "d", ""), args[skip - 1])
                    args = args[:skip - 1] + (items,) + args[skip:]
                elif check is not None:
                    check(args[skip - 1], args[skip:], kwargs)
            return _checked(function(*args, **kwargs))

        guarded.kit_guarded = True  # type: ignore[attr-defined]
        return guarded

    # time and output

    def tick(self) -> None:
        budget = getattr(self._state, "budget", None)
        if budget is not None and time.monotonic() > budget.deadline:
            raise LimitExceeded(f"rendering took longer than {RENDER_SECONDS:g} seconds, the limit "
                                "for one document (a loop that runs too long?)")

    def output(self, piece: str) -> str:
        budget = getattr(self._state, "budget", None)
        if budget is not None:
            budget.written += len(piece) or 1
            if budget.written > MAX_OUTPUT:
                raise LimitExceeded(f"the templates wrote more than {MAX_OUTPUT // 2**20} Mi characters, "
                                    "the limit for one document (a loop that runs too long?)")
            self.tick()
        return piece

    def looped(self, iterable):
        tick = self.tick
        for item in iterable:
            tick()
            yield item

    def joined(self, join, parts: tuple):
        total = 0
        for part in parts:
            total += len(part) if isinstance(part, str) else len(str(part))
            _fits(total)
        return join(parts)

    def begin(self) -> None:
        self._state.budget = _Budget(time.monotonic() + RENDER_SECONDS)

    def end(self) -> None:
        self._state.budget = None

    # the sandbox's hooks

    def is_safe_callable(self, obj) -> bool:
        if not super().is_safe_callable(obj):
            return False
        if isinstance(obj, (Macro, LoopContext, BlockReference, Joiner, Undefined, _StrFormat)):
            return True
        if any(obj is helper for helper in self.globals.values()):
            return True
        if isinstance(obj, _BOUND):
            owner = getattr(obj, "__self__", None)
            if isinstance(owner, type):
                return False
            return isinstance(owner, SAFE_OWNERS) or type(owner).__module__ in MODEL_MODULES
        return False

    def call(self, context, obj, /, *args, **kwargs):
        self.tick()
        if not self.is_safe_callable(obj):
            what = getattr(obj, "__qualname__", None) or type(obj).__name__
            raise SecurityError(f"{what!r} may not be called from a template")
        if isinstance(obj, _BOUND):
            for value in list(args) + list(kwargs.values()):
                _number(value, "a method's argument")
            owner = obj.__self__
            if isinstance(owner, str):
                args = _check_str_method(obj.__name__, owner, args, kwargs)
            elif isinstance(owner, date) and obj.__name__ == "strftime" and args and isinstance(args[0], str):
                _fits(len(args[0]) * 16)
        elif isinstance(obj, LoopContext) and args:  # a recursive loop's next level
            args = (self.looped(args[0]),) + args[1:]
        return _checked(context.call(obj, *args, **kwargs))

    def call_binop(self, context, operator, left, right):
        self.tick()
        _check_binop(operator, left, right)
        return _checked(super().call_binop(context, operator, left, right))

    def getattr(self, obj, attribute):
        self.tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        self.tick()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        return _StrFormat(value.__self__, wrapped, value.__name__ == "format_map")


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept for the life of the process, shared by every KitSandbox.

    Compiling the templates is about a sixth of a small build, and `kit preview` and a
    process that builds more than once compile the same sources again and again. Jinja
    looks a template up by its name, the path it reports and a checksum of its source,
    so an edited template, or a kit's own template of the same name, is compiled anew.
    Every KitSandbox is made by `environment()` with the same options, so the same
    source always compiles to the same code. At most KEPT templates are kept.
    """

    KEPT = 256

    def __init__(self) -> None:
        self._code: dict[tuple[str, str], types.CodeType] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket) -> None:
        with self._lock:
            code = self._code.get((bucket.key, bucket.checksum))
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket) -> None:
        with self._lock:
            if len(self._code) >= self.KEPT:
                self._code.pop(next(iter(self._code)))
            self._code[(bucket.key, bucket.checksum)] = bucket.code


_COMPILED = _CompiledTemplates()


# --- the public functions ----------------------------------------------------------

def environment(kit_root: Path | None, language: str = "en") -> KitSandbox:
    """The sandbox for a kit's templates, printing the kit's words in `language` (kit.i18n):
    `_()`, `ngettext()`, `pgettext()`, `{% trans %}` and the `kind` filter."""
    from kit import i18n

    loaders = []
    bundled = bundled_templates()
    shown_bundled = str(bundled)
    if kit_root is not None and (kit_root / "templates").is_dir():
        folder = kit_root / "templates"
        root, real = Path(kit_root).resolve(), folder.resolve()
        if real != root and root not in real.parents:
            raise KitError([Problem("templates", 1, 0, "error",
                                    "templates/ links to a place outside the kit; it is not read")])
        loaders.append(TemplateFolder(folder, "templates"))
        if real == bundled.resolve():
            shown_bundled = "templates"
    loaders.append(TemplateFolder(bundled, shown_bundled))
    env = KitSandbox(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml", "svg"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_COMPILED,
        extensions=["jinja2.ext.i18n"],
    )
    words = i18n.translator(language)
    # newstyle: `_("Session %(n)s", n=3)` escapes what it fills in and never evaluates
    # the catalogue's text as a template; the gettext functions are globals, so the
    # sandbox lets templates call them and nothing else of the catalogue.
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["md"] = render_markdown
    env.filters["mdi"] = lambda text: render_markdown(text, inline=True)
    env.filters["href"] = _href
    env.filters["url_text"] = _url_text
    env.filters["words"] = lambda text: words.gettext(text) if isinstance(text, str) else text
    env.filters["kind"] = lambda name: words.pgettext("kind", name) if isinstance(name, str) else name
    env.guard_filters()
    return env


def render_template(env: KitSandbox, name: str, **context) -> str:
    """The template `name` rendered with `context`; any problem is a KitError with its line."""
    env.begin()
    template = None
    try:
        template = env.get_template(name)
        pieces = []
        for piece in template.generate(**context):
            pieces.append(piece)
            env.tick()
        return "".join(pieces)
    except LimitExceeded as exc:
        shown = template.filename if template is not None else f"templates/{name}"
        raise KitError(f"{shown}: template error: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any failure (RecursionError too) is the template's
        raise KitError([_problem(env, name, exc)]) from None
    finally:
        env.end()




def _href(url) -> str:
    """An href as printed: the URL when kit.links allows it, else an anchor to nowhere.
    The loader already refuses such URLs with their line; this is the second guard, so a
    template cannot print a javascript: or file: link whatever reaches it."""
    from kit.links import allowed_link

    return url if isinstance(url, str) and allowed_link(url) else "#"


def stylesheet(env: jinja2.Environment, name: str) -> str:
    """The raw text of a stylesheet, found like a template (the kit's first)."""
    try:
        assert env.loader is not None
        source, _, _ = env.loader.get_source(env, name)
    except jinja2.TemplateNotFound:
        raise KitError(f"stylesheet not found: templates/{name}") from None
    except TemplateFileRefused as exc:
        raise KitError([Problem(exc.shown, exc.line, 0, "error", f"stylesheet error: {exc.message}")]) from None
    return source


def _problem(env: KitSandbox, name: str, exc: BaseException) -> Problem:
    """`exc` as `path:line: template error: message`, at the innermost template line."""
    where, line = f"templates/{name}", 1
    tb = exc.__traceback__
    found = False
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename in env.template_files:
            where, line, found = filename, tb.tb_lineno, True
        tb = tb.tb_next
    if isinstance(exc, TemplateFileRefused):
        message = exc.message
        if found:
            message += f" (included at {where}:{line})"
        where, line = exc.shown, exc.line
    elif isinstance(exc, jinja2.TemplateSyntaxError):
        where, line = exc.filename or f"templates/{exc.name or name}", exc.lineno or 1
        message = exc.message or str(exc)
    elif isinstance(exc, jinja2.TemplateNotFound):
        message = f"template not found: {exc.name}"
    elif isinstance(exc, jinja2.TemplateError):
        message = exc.message or type(exc).__name__
    elif isinstance(exc, RecursionError):
        message = "templates nested too deeply (a macro, include or recursive loop that never ends?)"
    elif isinstance(exc, MemoryError):
        message = "out of memory"
    else:
        message = f"{type(exc).__name__}: {exc}"
    if len(message) > 300:
        message = message[:297] + "..."
    return Problem(where, line, 0, "error", f"template error: {message}")
