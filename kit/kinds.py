"""Block kinds: every kind of `:::` block is declared once, by one class, in `REGISTRY`.

After Sphinx's directives (a class with an `option_spec`, made known with
`register_directive`): a kind's class says all that the rest of kit needs to know
about it, and the parser, the worksheet view, the templates' dispatch, the lint
checks, `kit export`, `kit init` and the test of the README's table ask the registry
instead of naming kinds themselves. A new kind is one class:

    @register
    class PollKind(Kind):
        name = "poll"
        model = Poll                                 # a frozen dataclass with `kind` and `src`
        fields = {"options": List(Str()), "tally": Str()}
        participant_fields = ("title", "text", "options")   # never `tally`
        needs_body = True
        formative = True
        guide_macro = "poll"                         # a macro of templates/blocks.html
        worksheet_macro = "poll"                     # a macro of templates/worksheet-blocks.html

        @classmethod
        def build(cls, block, ctx):
            return Poll(block.title, block.body, block.fields["options"], block.fields["tally"],
                        block.src)

The parser makes the checks a kind declares (its fields' types, an answer it must
have or may not have, an empty body, a missing title) and then calls `build`, which
makes the model object and reports what only the kind knows. The worksheet gets,
of each block of a participant kind, a copy that holds its `participant_fields` and
nothing else (kit.views). No Jinja, click or WeasyPrint here.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Mapping

from kit import model as m
from kit.errors import KitError
from kit.schema import Bool, Choice, Int, List, Map, Str

ANSWER = "answer"  # the one child block: not a kind of its own, the parser handles it
# The line to say aloud is printed on the one-page run sheet: it must stay short (besides
# fitting the page, a very long unbroken line makes the PDF engine's line breaking slow).
MAX_SAY = 600

NAME_RE = re.compile(r"[a-z][a-z0-9-]*")     # the parser reads a fence's kind in lower case
FIELD_RE = re.compile(r"[A-Za-z_][\w-]*")    # what the parser reads as a `key:` line
MACRO_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # Jinja does not export names that start with '_'
FIELD_TYPES = (Str, Int, Bool, Choice, Map, List)

# Fields every written kind takes besides its own: when the block begins, in minutes
# after its segment's start, and how many minutes it takes. The parser lays them out
# (kit.model.Pace) and checks them against the segment; a kind never sees them.
PACING = {"at": Int(low=0, high=600), "takes": Int(high=600)}
# 'decide:' of a cut: minutes from the session's start, as 45 or 0:45.
CLOCK_PATTERN = r"\d{1,3}|\d{1,2}:[0-5]\d"


@dataclass(frozen=True)
class Parsed:
    """What the parser read of one block, for its kind's `build`."""
    title: str                    # the rest of the opening fence's line
    body: str                     # Markdown
    fields: Mapping[str, Any]     # every field of the kind, checked (a default where missing or wrong)
    answer: str                   # the nested answer's Markdown, '' when none
    src: m.Source


@dataclass(frozen=True)
class Context:
    """What a kind's `build` may use besides the block: the course's products (id -> name),
    and where to report, at the block's opening line, an error or a warning."""
    products: Mapping[str, str]
    error: Callable[[str], None]
    warning: Callable[[str], None]


class Kind:
    """The declaration of one kind of block. Subclass it, set the attributes, `register` it."""

    name: ClassVar[str]                 # as written on the fence: '::: name Title'
    model: ClassVar[type]               # the frozen dataclass `build` makes (with `kind` and `src`)
    fields: ClassVar[Mapping[str, Any]] = {}  # the `key: value` lines it takes, typed with kit.schema
    # What participants may see: names of the model's fields. Empty: the kind never
    # reaches a worksheet. Anything else of the block (an answer, a facilitator's note
    # in a field) is left out of the worksheet's copy of it, whatever the templates do.
    participant_fields: ClassVar[tuple[str, ...]] = ()
    takes_answer: ClassVar[bool] = False  # may hold a nested '::: answer' block
    needs_answer: ClassVar[bool] = False  # ... and must (an error without one)
    needs_body: ClassVar[bool] = False    # an error when the block has no text
    needs_title: ClassVar[bool] = False   # an error when the opening line has no title
    empty_message: ClassVar[str] = ""     # the error for a missing body; '' for the usual one
    untitled_message: ClassVar[str] = ""  # the error for a missing title; '' for the usual one
    formative: ClassVar[bool] = False     # a formative check (kit check wants one every 15 minutes)
    anticipates: ClassVar[bool] = False   # an anticipated question (kit check wants one a session)
    plans_timing: ClassVar[bool] = False  # what to cut or add (kit check wants one a session)
    guide_macro: ClassVar[str]            # the macro of blocks.html that prints it in the guide
    worksheet_macro: ClassVar[str | None] = None  # the macro of worksheet-blocks.html; None: never
    computed: ClassVar[tuple[str, ...]] = ()  # properties of the model that `kit export` writes too
    noun: ClassVar[str] = ""              # how messages name one block ("a pair activity")
    hint: ClassVar[str] = ""              # a few words after its name in a new kit's README
    # Messages that name a few kinds ("a prompt, a pair activity or a check") name these
    # first; otherwise, and wherever every kind is listed, kinds come in the registry's order.
    mentioned_first: ClassVar[bool] = False
    fenced: ClassVar[bool] = True         # written as a ':::' block; False: made by kit itself
    numbered: ClassVar[bool] = False      # numbered on the worksheet ('Question 2'), and so in the guide
    asks_room: ClassVar[bool] = False     # a question to the room, which may say what to do on silence

    @classmethod
    def build(cls, block: Parsed, ctx: Context) -> Any:
        """The model object of a block of this kind; report what is wrong through `ctx`."""
        raise NotImplementedError(f"block kind '{cls.name}' is not written as a ':::' block")

    @classmethod
    def lint(cls, block: Any, warn: Callable[[str], None]) -> None:
        """`kit check`'s warnings about one block of this kind (at its line)."""

    @classmethod
    def described(cls) -> str:
        return cls.noun or f"a '{cls.name}' block"

    @classmethod
    def empty(cls) -> str:
        return cls.empty_message or f"the '{cls.name}' block is empty"

    @classmethod
    def untitled(cls) -> str:
        return cls.untitled_message or f"a '{cls.name}' block needs a title on its opening line: '::: {cls.name} Title'"


REGISTRY: dict[str, type[Kind]] = {}  # name -> kind, in the order of registration


def register(kind: type[Kind]) -> type[Kind]:
    """Add a kind to the registry (usable as a class decorator). A declaration that
    cannot work is a KitError that says why, before any module is read."""
    problems = _declaration_problems(kind)
    if problems:
        what = getattr(kind, "name", None) or getattr(kind, "__name__", repr(kind))
        raise KitError(f"block kind '{what}' cannot be registered: " + "; ".join(problems))
    REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a kind (tests and plugins that add one for a while)."""
    REGISTRY.pop(name, None)


def _declaration_problems(kind: Any) -> list[str]:
    if not (isinstance(kind, type) and issubclass(kind, Kind)):
        return ["it is not a subclass of kit.kinds.Kind"]
    problems = []
    name = getattr(kind, "name", None)
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        problems.append("its name must be lower-case letters, digits and '-', starting with a letter")
    elif name == ANSWER:
        problems.append("'answer' is the nested answer of other blocks")
    elif name in REGISTRY:
        problems.append("a kind of that name is registered already")
    for reserved in PACING:
        if reserved in getattr(kind, "fields", {}):
            problems.append(f"field '{reserved}' is taken by every kind (pacing): choose another name")
    model = getattr(kind, "model", None)
    model_fields: set[str] = set()
    if not (isinstance(model, type) and dataclasses.is_dataclass(model)):
        problems.append("its model must be a dataclass")
    else:
        model_fields = {f.name for f in dataclasses.fields(model)}
        if "src" not in model_fields or not hasattr(model, "kind"):
            problems.append("its model must have a 'src' field and a 'kind'")
    for key, spec in kind.fields.items():
        if not (isinstance(key, str) and FIELD_RE.fullmatch(key)):
            problems.append(f"field name {key!r} cannot be written as a 'key:' line")
        if not isinstance(spec, FIELD_TYPES):
            problems.append(f"field '{key}' must be typed with kit.schema (Str, Int, Bool, List...)")
    for field_name in kind.participant_fields:
        if field_name in ("kind", "src") or (model_fields and field_name not in model_fields):
            problems.append(f"participant field '{field_name}' is not a field of its model")
    if bool(kind.participant_fields) != (kind.worksheet_macro is not None):
        problems.append("a kind with participant fields needs a worksheet macro, and only such a kind")
    if kind.needs_answer and not kind.takes_answer:
        problems.append("a kind that needs an answer must take one")
    macros = [getattr(kind, "guide_macro", None)] + ([kind.worksheet_macro] if kind.worksheet_macro else [])
    for macro in macros:
        if not (isinstance(macro, str) and MACRO_RE.fullmatch(macro)):
            problems.append(f"macro name {macro!r} must be letters, digits and '_', starting with a letter")
    if kind.fenced and kind.build.__func__ is Kind.build.__func__:  # type: ignore[attr-defined]
        problems.append("it must say how it builds its model object (build)")
    return problems


# --- what the rest of kit asks --------------------------------------------------------

def written(name: str) -> type[Kind] | None:
    """The kind written as '::: name', or None."""
    kind = REGISTRY.get(name)
    return kind if kind is not None and kind.fenced else None


def written_kinds() -> list[type[Kind]]:
    """The kinds an author can write, in the registry's order."""
    return [k for k in REGISTRY.values() if k.fenced]


def kind_of(block: Any) -> type[Kind] | None:
    """The registered kind of a block of the model, or None."""
    name = getattr(block, "kind", None)
    return REGISTRY.get(name) if isinstance(name, str) else None


def block_fields(name: str) -> Mapping[str, Any]:
    """The fields a block of kind `name` takes: its own and the pacing fields ('answer'
    takes none)."""
    kind = written(name)
    return {**kind.fields, **PACING} if kind is not None else {}


def clock_minutes(text: str) -> int:
    """'45' or '0:45' (as CLOCK_PATTERN allows) -> 45."""
    hours, _, minutes = text.rpartition(":")
    return int(hours or 0) * 60 + int(minutes)


def mentioned(kinds: Iterable[type[Kind]]) -> list[type[Kind]]:
    """`kinds` in the order messages name a few of them (see Kind.mentioned_first)."""
    return sorted(kinds, key=lambda k: not k.mentioned_first)  # sorted() keeps the order of ties


def answer_parents() -> list[type[Kind]]:
    return mentioned(k for k in written_kinds() if k.takes_answer)


def formative_kinds() -> list[type[Kind]]:
    return mentioned(k for k in REGISTRY.values() if k.formative)


def anticipating_kinds() -> list[type[Kind]]:
    return mentioned(k for k in REGISTRY.values() if k.anticipates)


def timing_kinds() -> list[type[Kind]]:
    return mentioned(k for k in REGISTRY.values() if k.plans_timing)


def participant_kinds() -> list[type[Kind]]:
    return mentioned(k for k in REGISTRY.values() if k.participant_fields)


def is_formative(block: Any) -> bool:
    kind = kind_of(block)
    return kind is not None and kind.formative


def for_participants(block: Any) -> bool:
    """Whether (part of) the block reaches the worksheet."""
    kind = kind_of(block)
    return kind is not None and bool(kind.participant_fields)


def joined(words: Iterable[str], last: str = "or") -> str:
    """'a, b or c' (or 'a, b and c')."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def guide_macros() -> tuple[tuple[str, str], ...]:
    """(kind, macro of blocks.html) for every kind."""
    return tuple((k.name, k.guide_macro) for k in REGISTRY.values())


def worksheet_macros() -> tuple[tuple[str, str], ...]:
    """(kind, macro of worksheet-blocks.html) for every kind that reaches the worksheet."""
    return tuple((k.name, k.worksheet_macro) for k in REGISTRY.values() if k.worksheet_macro)


# --- the kinds of kit ------------------------------------------------------------------

@register
class NoteKind(Kind):
    name = "note"
    model = m.Note
    needs_body = True
    guide_macro = "note"

    @classmethod
    def build(cls, block: Parsed, ctx: Context) -> m.Note:
        return m.Note(block.body, block.src, block.title)


@register
class SayKind(Kind):
    name = "say"
    model = m.Say
    needs_body = True
    guide_macro = "say"

    @classmethod
    def build(cls, block: Parsed, ctx: Context) -> m.Say:
        if len(block.body) > MAX_SAY:
            ctx.error(f"the 'say' block is {len(block.body)} characters long; keep the line "
                      f"to say under {MAX_SAY} (it is printed on the one-page run sheet) "
                      "and move the rest into a note")
        return m.Say(block.body, block.src)


@register
class AnecdoteKind(Kind):
    name = "anecdote"
    model = m.Anecdote
    fields = {"point": Str(), "source": Str(), "retell": Str()}
    needs_title = True
    untitled_message = "an anecdote needs a title on its opening line: '::: anecdote Title'"
    needs_body = True
    empty_message = "the anecdote has no story"
    guide_macro = "anecdote"

    @classmethod
    def build(cls, block: Parsed, ctx: Context) -> m.Anecdote:
        f = block.fields
        return m.Anecdote(block.title, block.body, f["point"], f["source"], f["retell"], block.src)

    @classmethod
    def lint(cls, block: Any, warn: Callable[[str], None]) -> None:
        if not block.point:
            warn(f"anecdote '{block.title}' does not say its point ('point:')")
        if not block.source:
            warn(f"anecdote '{block.title}' does not say its source ('source:')")


@register
class ExampleKind(Kind):
    name = "example"
    model = m.Example
    fields = {"product": Str(required=True)}
    needs_body = True
    empty_message = "the example is empty"
    guide_macro = "example"
    hint = "names a product of course.yaml"

    @classmethod
    def build(cls, block: Parsed, ctx: Context) -> m.Example:
        product = block.fields["product"]
        if product and product not in ctx.products:
            declared = ", ".join(ctx.products) or "none"
            ctx.error(f"example names product '{product}', which course.yaml "
                      f"does not declare; declared products: {declared}")
        return m.Example(block.title, product, block.body, block.src)


@register
class PairKind(Kind):
    name = "pair"
    model = m.PairActivity
    fields = {"a": Str(), "b": Str(), "minutes": Int(high=120), "swap": Bool(default=True),
              "debrief": List(Str()), "setup": Int(low=0, high=60), "debrief-minutes": Int(low=0, high=120)}
    participant_fields = ("title", "instructions", "role_a", "role_b", "minutes", "swap", "debrief")
    needs_body = True
    empty_message = "the pair activity has no instructions"
    formative = True
    noun = "a pair activity"
    guide_macro = "pair"
    worksheet_macro = "pair"
    computed = ("total_minutes",)

    @classmethod
    def build(cls, block: Parsed, ctx: Context) -> m.PairActivity:
        f = block.fields
        return m.PairActivity(block.title, block.body, f["a"], f["b"], f["minutes"], f["swap"], f["debrief"],
                              block.src, f["setup"], f["debrief-minutes"])


@register
class QuestionKind(Kind):
    name = "question"
    model = m.Question
    takes_answer = True
    needs_answer = True
    needs_body = True
    anticipates = True
    guide_macro = "question"

    @classmethod
    def build(cls, block: Parsed, ctx: Context) -> m.Question:
        return m.Question(block.title, block.body, block.answer, cls.name == "misconception", block.src)


@register
class MisconceptionKind(QuestionKind):
    name = "misconception"


class RoomQuestion(Kind):
    """What a question put to the room has: an answer to listen for and a fallback for
    silence (the base of `check` and `ask`; not registered itself)."""
    fields = {"fallback": Str()}
    takes_answer = True
    needs_body = True
    asks_room = True


@register
class CheckKind(RoomQuestion):
    name = "check"
    model = m.Check
    formative = True
    noun = "a check"
    guide_macro = "check"
    hint = "'fallback:' says what to do when nobody answers"

    @classmethod
    def build(cls, block: Parsed, ctx: Context) -> m.Check:
        return m.Check(block.title, block.body, block.answer, block.src, block.fields["fallback"])


@register
class AskKind(RoomQuestion):
    """Put to the room like a check, to open or carry a discussion: not a formative check."""
    name = "ask"
    model = m.Ask
    noun = "a question to the room"
    guide_macro = "ask"
    hint = "a question to the room; the answer is what to listen for"

    @classmethod
    def build(cls, block: Parsed, ctx: Context) -> m.Ask:
        return m.Ask(block.title, block.body, block.answer, block.fields["fallback"], block.src)


@register
class PromptKind(Kind):
    name = "prompt"
    model = m.Prompt
    fields = {"lines": Int(default=6, high=40)}
    participant_fields = ("title", "text", "lines")  # not the answer: it is for the guide
    takes_answer = True
    needs_body = True
    formative = True
    numbered = True
    noun = "a prompt"
    mentioned_first = True
    guide_macro = "prompt"
    worksheet_macro = "prompt"

    # About what one ruled line of the answer key holds (its answers are printed over
    # the lines participants write on, so that its pages match the worksheet's).
    KEY_CHARACTERS_PER_LINE = 90

    @classmethod
    def lint(cls, block: Any, warn: Callable[[str], None]) -> None:
        room = block.lines * cls.KEY_CHARACTERS_PER_LINE
        if len(" ".join(block.answer.split())) > room:
            warn(f"the prompt's answer is longer than its {block.lines} lines hold on the answer key "
                 f"(about {room} characters): shorten it or give the prompt more 'lines:'")

    @classmethod
    def build(cls, block: Parsed, ctx: Context) -> m.Prompt:
        if not block.answer:
            ctx.warning("the prompt has no answer for the guide: add a nested '::: answer' block")
        return m.Prompt(block.title, block.body, block.answer, block.fields["lines"], block.src)


@register
class CutKind(Kind):
    name = "cut"
    model = m.Cut
    fields = {"saves": Int(required=True, high=600),
              "decide": Str(pattern=CLOCK_PATTERN, hint="minutes from the session's start, as 45 or 0:45")}
    needs_title = True
    untitled_message = "a cut says what to drop on its opening line: '::: cut Skip the second story'"
    plans_timing = True
    noun = "a cut"
    guide_macro = "cut"
    hint = "what to drop when late; 'saves:' minutes"

    @classmethod
    def build(cls, block: Parsed, ctx: Context) -> m.Cut:
        f = block.fields
        decide = clock_minutes(f["decide"]) if f["decide"] else None
        return m.Cut(block.title, f["saves"] or 0, decide, block.body, block.src)


@register
class TimingKind(Kind):
    name = "timing"
    model = m.TimingNote
    fields = {"cut": Str(), "add": Str()}
    plans_timing = True
    guide_macro = "timing"
    hint = "'add:' what to do when early"

    @classmethod
    def build(cls, block: Parsed, ctx: Context) -> m.TimingNote:
        f = block.fields
        if not (f["cut"] or f["add"] or block.body):
            ctx.error("the timing note is empty: give 'add:' (and write cuts as '::: cut' blocks)")
        return m.TimingNote(f["cut"], f["add"], block.body, block.src)

    @classmethod
    def lint(cls, block: Any, warn: Callable[[str], None]) -> None:
        if block.cut:
            warn("a timing note's 'cut:' does not say what it saves: write it as a '::: cut Title' "
                 "block with 'saves: N' in the segment it shortens")


# Blocks that kit makes itself: printed in the guide like the others, never written.

@register
class TalkKind(Kind):
    """Plain Markdown between a segment's blocks: the facilitator's talking points."""
    name = "talk"
    model = m.Talk
    guide_macro = "talk"
    fenced = False


@register
class ByoKind(Kind):
    """'Bring your own example': made by an organisation profile (kit.orgs)."""
    name = "byo"
    model = m.ByoExample
    guide_macro = "byo"
    fenced = False
