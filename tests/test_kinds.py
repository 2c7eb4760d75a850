"""Block kinds as registered types (kit.kinds): a new kind is one class, and the parser,
the checks, the export, the guide and the worksheet all follow the registry."""
import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from kit import kinds
from kit import model as m
from kit.build import BuildOptions, build
from kit.check import check_kit_dir
from kit.cli import main
from kit.errors import KitError
from kit.loader import load_kit
from kit.paths import bundled_templates
from kit.scaffold import init_kit
from kit.schema import Int, List, Str
from kit.views import participant_view, worksheet_view

from conftest import FACILITATOR_ONLY, MODULE, PARTICIPANT, module, write_kit
from pdftext import all_text
from htmltext import printed_pdfs

README = Path(__file__).resolve().parent.parent / "README.md"


# --- a kind of block that kit does not have: a poll of the room -------------------------

@dataclass(frozen=True)
class Poll:
    title: str
    text: str
    options: tuple[str, ...]
    tally: str  # how an earlier cohort voted: for the facilitator only
    src: m.Source
    kind: ClassVar[str] = "poll"


class PollKind(kinds.Kind):
    name = "poll"
    model = Poll
    fields = {"options": List(Str()), "tally": Str()}
    participant_fields = ("title", "text", "options")
    needs_body = True
    formative = True
    noun = "a poll"
    guide_macro = "poll"
    worksheet_macro = "poll"

    @classmethod
    def build(cls, block, ctx):
        if len(block.fields["options"]) < 2:
            ctx.error("a poll needs at least two options")
        return Poll(block.title, block.body, block.fields["options"], block.fields["tally"], block.src)


@pytest.fixture
def poll():
    kinds.register(PollKind)
    yield PollKind
    kinds.unregister(PollKind.name)


POLL = """\
::: poll PART-POLL-TITLE
options: [PART-OPTION-ONE, PART-OPTION-TWO]
tally: FAC-TALLY two thirds chose one

PART-POLL-TEXT which would you ship?
:::
"""
NOTE = "::: note\nFAC-NOTE only for the facilitator.\n:::\n"
assert NOTE in MODULE
POLL_MODULE = MODULE.replace(NOTE, NOTE + "\n" + POLL)

GUIDE_MACRO = """
{% macro poll(b, products) %}
<aside class="box poll"><p class="box-label">Poll</p>
<h3>{{ b.title }}</h3>
{{ b.text|md }}
<ul>{% for option in b.options %}<li>{{ option|mdi }}</li>{% endfor %}</ul>
<p>Last time: {{ b.tally|mdi }}</p></aside>
{% endmacro %}
"""
# Asks for the facilitator-only field too: the worksheet's copy of the block does not have it.
WORKSHEET_MACRO = """
{% macro poll(b) %}
<div class="poll"><h3>{{ b.title }}</h3>
{{ b.text|md }}
<ul>{% for option in b.options %}<li>{{ option|mdi }}</li>{% endfor %}</ul>
<p>{{ b.tally|default("TALLY-WITHHELD") }}</p></div>
{% endmacro %}
"""


def bundled(name: str) -> str:
    return (bundled_templates() / name).read_text(encoding="utf-8")


def poll_kit(root: Path, guide: bool = True, worksheet: bool = True, text: str = POLL_MODULE) -> Path:
    files = {"content/fixture/01-fixture.md": text}
    if guide:
        files["templates/blocks.html"] = bundled("blocks.html") + GUIDE_MACRO
    if worksheet:
        files["templates/worksheet-blocks.html"] = bundled("worksheet-blocks.html") + WORKSHEET_MACRO
    return write_kit(root, files)


def guide_words(root: Path, **options) -> str:
    """The words of the whole facilitator guide a build of the kit would write (htmltext)."""
    return printed_pdfs(root, **options)["fixture/facilitator-guide.pdf"]


def test_a_registered_kind_is_parsed_checked_exported_and_printed(poll, tmp_path):
    root = poll_kit(tmp_path / "kit")
    # parsed, with its fields typed
    session = load_kit(root).kit.courses[0].sessions[0]
    (block,) = session.blocks("poll")
    assert block == Poll("PART-POLL-TITLE", "PART-POLL-TEXT which would you ship?",
                         ("PART-OPTION-ONE", "PART-OPTION-TWO"), "FAC-TALLY two thirds chose one",
                         m.Source("content/fixture/01-fixture.md", block.src.line))
    assert session.segments[0].of_kind("poll") == (block,)
    # checked: no problem at all
    assert check_kit_dir(root) == []
    # exported, whole
    result = CliRunner().invoke(main, ["export", str(root), "--format", "json"])
    assert result.exit_code == 0, result.output
    blocks = json.loads(result.output)["courses"][0]["sessions"][0]["segments"][0]["blocks"]
    (exported,) = [b for b in blocks if b["kind"] == "poll"]
    assert exported == {"kind": "poll", "title": "PART-POLL-TITLE", "text": "PART-POLL-TEXT which would you ship?",
                        "options": ["PART-OPTION-ONE", "PART-OPTION-TWO"],
                        "tally": "FAC-TALLY two thirds chose one", "src": f"content/fixture/01-fixture.md:{block.src.line}"}
    # printed: whole in the guide (its words, from the HTML the build renders), its
    # participant fields only in the worksheet (the built PDFs)
    out = tmp_path / "out"
    build(root, BuildOptions(out=out, jobs=1))
    guide = guide_words(root)
    for text in ("PART-POLL-TITLE", "PART-POLL-TEXT", "PART-OPTION-ONE", "PART-OPTION-TWO", "FAC-TALLY"):
        assert text in guide
    sheets = all_text(out / "fixture/participant-worksheets.pdf")
    for text in ("PART-POLL-TITLE", "PART-POLL-TEXT", "PART-OPTION-ONE", "PART-OPTION-TWO", *PARTICIPANT):
        assert text in sheets
    # The worksheet macro asked for the tally and got nothing: the field is not in its copy.
    assert "TALLY-WITHHELD" in sheets and "FAC-TALLY" not in sheets
    assert not [text for text in FACILITATOR_ONLY if text in sheets]
    session_sheet = all_text(out / "fixture/sessions/01-fixture-worksheet.pdf")
    assert "PART-OPTION-TWO" in session_sheet and "FAC-TALLY" not in session_sheet


def test_the_worksheet_copy_holds_the_declared_fields_and_nothing_else(poll, tmp_path):
    session = load_kit(poll_kit(tmp_path / "kit")).kit.courses[0].sessions[0]
    view = worksheet_view(session)
    copies = [b for part in view.parts for b in part.blocks]
    assert [b.kind for b in copies] == ["poll", "prompt", "pair"]
    polled, prompt, pair = copies
    assert [f.name for f in dataclasses.fields(polled)] == ["title", "text", "options", "src"]
    assert not hasattr(polled, "tally")
    assert polled.options == ("PART-OPTION-ONE", "PART-OPTION-TWO")
    assert not hasattr(prompt, "answer") and prompt.title == "PART-PROMPT-TITLE" and prompt.lines == 3
    assert pair.role_a == "PART-ROLE-A explains" and pair.debrief == ("PART-DEBRIEF what was hard?",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        polled.text = "changed"


def test_a_participant_field_must_hold_plain_values(tmp_path):
    @dataclass(frozen=True)
    class Card:
        secret: m.Source  # an object, which could carry anything along
        src: m.Source
        kind: ClassVar[str] = "card"

    class CardKind(kinds.Kind):
        name = "card"
        model = Card
        participant_fields = ("secret",)
        guide_macro = worksheet_macro = "card"

        @classmethod
        def build(cls, block, ctx):
            return Card(block.src, block.src)

    kinds.register(CardKind)
    try:
        with pytest.raises(KitError, match="participant field 'secret' holds a Source"):
            participant_view(Card(m.Source("x.md", 3), m.Source("x.md", 3)))
    finally:
        kinds.unregister("card")


def test_the_parser_makes_the_checks_a_kind_declares(poll, make_kit):
    body = ("## A {minutes=10 kind=discussion}\n\n"
            "::: poll\noptions: only one\n:::\n\n"
            "::: poll T\noptions: [a]\n\nWhich?\n:::\n\n"
            "::: poll T\noptions: [a, b]\nvotes: 3\n\nWhich?\n:::: answer\nA\n::::\n:::\n\n"
            "::: pol\nx\n:::\n")
    root = make_kit({"content/fixture/01-fixture.md": module("title: T\nminutes: 10", body)})
    path = "content/fixture/01-fixture.md"
    found = [p.format() for p in check_kit_dir(root) if p.severity == "error"]
    assert sorted(found) == sorted([
        f"{path}:8: 'poll' block: 'options' must be a list, not 'only one'",
        f"{path}:7: the 'poll' block is empty",
        f"{path}:7: a poll needs at least two options",
        f"{path}:11: a poll needs at least two options",
        f"{path}:19: 'poll' block: unknown key 'votes'; valid keys: options, tally, at, takes",
        f"{path}:22: a 'answer' block cannot be inside a 'poll' block",
        f"{path}:27: unknown block kind 'pol'; valid kinds: note, say, anecdote, example, pair, question, "
        "misconception, check, ask, prompt, cut, timing, poll",
    ])


def test_lint_counts_a_registered_formative_kind_and_names_it(poll, make_kit):
    def warnings(body):
        root = make_kit({"content/fixture/01-fixture.md": module("title: T\nminutes: 30", body)})
        return [p.message for p in check_kit_dir(root) if "formative" in p.message]

    talk = "## A {minutes=15 kind=discussion}\n\nx\n\n## B {minutes=15 kind=discussion}\n\ny\n"
    assert warnings(talk) == [
        "about 30 minutes pass without a formative check (a prompt, a pair activity, a check or a poll) "
        "by the end of 'B'; aim for one every 15 minutes"]
    polls = talk.replace("x\n", "::: poll\noptions: [a, b]\n\nWhich?\n:::\n").replace(
        "y\n", "::: poll\noptions: [a, b]\n\nAnd now?\n:::\n")
    assert warnings(polls) == []


def test_a_kind_without_its_guide_macro_stops_the_build(poll, tmp_path):
    # The poll is registered but no module uses one: the missing macro is still an error,
    # when the template loads, not a blank where a poll would be.
    root = poll_kit(tmp_path / "kit", guide=False, text=MODULE)
    out = tmp_path / "out"
    with pytest.raises(KitError) as caught:
        build(root, BuildOptions(out=out, jobs=1))
    message = str(caught.value)
    assert "template error: templates/blocks.html has no macro for the 'poll' blocks: add " \
           "'{% macro poll(b, products) %}...{% endmacro %}'" in message, message
    assert not list(out.rglob("*.pdf"))


def test_a_participant_kind_without_its_worksheet_macro_stops_the_build(poll, tmp_path):
    root = poll_kit(tmp_path / "kit", worksheet=False)
    out = tmp_path / "out"
    with pytest.raises(KitError) as caught:
        build(root, BuildOptions(out=out, jobs=1))
    message = str(caught.value)
    assert re.match(r"\S*templates/worksheet-session\.html:2: template error: ", message), message
    assert "templates/worksheet-blocks.html has no macro for the 'poll' blocks: add " \
           "'{% macro poll(b) %}...{% endmacro %}'" in message, message
    assert not list(out.rglob("*.pdf"))


def test_unregistering_a_kind_makes_it_unknown_again(make_kit):
    root = make_kit({"content/fixture/01-fixture.md": POLL_MODULE})
    kinds.register(PollKind)
    try:
        assert not [p for p in check_kit_dir(root) if p.severity == "error"]
    finally:
        kinds.unregister("poll")
    assert "poll" not in kinds.REGISTRY
    assert any("unknown block kind 'poll'" in p.message for p in check_kit_dir(root))


@pytest.mark.parametrize("changes, reason", [
    ({"name": "answer"}, "'answer' is the nested answer of other blocks"),
    ({"name": "note"}, "a kind of that name is registered already"),
    ({"name": "Poll"}, "its name must be lower-case letters"),
    ({"participant_fields": ("title", "votes")}, "participant field 'votes' is not a field of its model"),
    ({"worksheet_macro": None}, "a kind with participant fields needs a worksheet macro"),
    ({"participant_fields": ()}, "a kind with participant fields needs a worksheet macro"),
    ({"needs_answer": True}, "a kind that needs an answer must take one"),
    ({"fields": {"options": list}}, "field 'options' must be typed with kit.schema"),
    ({"fields": {"two words": Int()}}, "field name 'two words' cannot be written as a 'key:' line"),
    ({"guide_macro": "_hidden"}, "macro name '_hidden' must be letters"),
    ({"model": dict}, "its model must be a dataclass"),
    ({"build": classmethod(kinds.Kind.build.__func__)}, "it must say how it builds its model object"),
])
def test_a_declaration_that_cannot_work_is_refused(changes, reason):
    broken = type("Broken", (PollKind,), dict(changes))
    before = dict(kinds.REGISTRY)
    with pytest.raises(KitError, match=re.escape(reason)):
        kinds.register(broken)
    assert kinds.REGISTRY == before


# --- what lists kinds follows the registry -----------------------------------------------

def readme_blocks_table() -> list[list[str]]:
    section = README.read_text(encoding="utf-8").split("#### Blocks", 1)[1].split("\n#### ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    assert lines[:2] == ["| kind | who sees it | fields | body |", "| --- | --- | --- | --- |"]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[2:]]


def names_in(cell: str) -> list[str]:
    """The `names` of a table cell, leaving out what is in parentheses ('`product` (an `id` ...)')."""
    return re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", cell))


def test_the_readme_table_of_blocks_is_the_registry():
    rows = readme_blocks_table()
    table = {names_in(kind)[0]: (who, names_in(fields), body) for kind, who, fields, body in rows}
    answer = table.pop("answer")
    written = kinds.written_kinds()
    assert list(table) == [k.name for k in written]
    for kind in written:
        who, fields, body = table[kind.name]
        assert who == ("both" if kind.participant_fields else "facilitator"), kind.name
        assert fields == list(kind.fields), kind.name
        assert ("`answer`" in body) == kind.takes_answer, kind.name
    assert answer[0] == "facilitator" and answer[1] == []
    assert names_in(answer[2]) == [k.name for k in kinds.answer_parents()]


def test_the_readme_names_the_formative_and_participant_kinds_of_the_registry():
    text = README.read_text(encoding="utf-8")
    formative = re.search(r"\*\*Formative checks\*\* are (.*?) blocks", text).group(1)
    assert names_in(formative) == [k.name for k in kinds.formative_kinds()]
    shown = re.search(r"Only (.*?) blocks \(without their answers\)", text).group(1)
    assert sorted(names_in(shown)) == sorted(k.name for k in kinds.participant_kinds())


def test_registered_kinds_have_unique_names_and_the_built_in_ones_are_complete():
    assert [k.name for k in kinds.written_kinds()] == [
        "note", "say", "anecdote", "example", "pair", "question", "misconception", "check", "ask", "prompt", "cut",
        "timing"]
    assert list(kinds.REGISTRY)[-2:] == ["talk", "byo"]  # made by kit, never written
    assert [k.name for k in kinds.participant_kinds()] == ["prompt", "pair"]
    assert kinds.block_fields("answer") == {} and kinds.block_fields("talk") == {}


def test_the_new_kit_uses_every_kind_an_author_can_write(tmp_path):
    init_kit(tmp_path / "kit")
    session = load_kit(tmp_path / "kit").kit.courses[0].sessions[0]
    assert {b.kind for b in session.blocks()} >= {k.name for k in kinds.written_kinds()}
    readme = " ".join((tmp_path / "kit/README.md").read_text(encoding="utf-8").split())
    assert "Block kinds: " + ", ".join(f"`{k.name}`" + (f" ({k.hint})" if k.hint else "")
                                       for k in kinds.written_kinds()[:-1]) in readme
