"""Fixture kits that several test files build: each is a `files` dict for
`shared_builds.get(files, ...)`, so that a kit asked for with the same options is built
once per test run, whichever file asks first."""
from __future__ import annotations

from conftest import MODULE, TINY_MODULE, module

# --- the fixture session with links of every kind (test_links, test_printfix) ----------------

# Written in a talking point, and a resource.
LINKED_MODULE = MODULE.replace(
    "FAC-TALKING-POINT about the recap.",
    "FAC-TALKING-POINT see [docs](https://example.org/docs), [old](http://example.org/old), "
    "[mail](mailto:team@example.org), <https://auto.example.org/> and [ref][r].\n\n"
    "[r]: https://example.org/reference",
).replace("think_about:", "resources:\n  - title: Further reading\n    url: https://example.org/further\n"
                          "think_about:")

# --- a session of long links and many segments (test_printfix, test_links) ------------------

# Many hyphens, and long enough to wrap in every column it is printed in.
URL = ("https://example.org/machine-learning/crash-course/descending-into-ml-with-a-very-long-path-name"
       "-that-goes-on-past-the-end-of-the-column?lang=en-gb&utm_source=run-sheet")
# A part with no place to break that is wider than the narrow column, then hyphens again.
TOKEN_URL = "https://example.org/v/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-x-y-z"
RESOURCE_URL = ("https://example.org/further-reading/a-long-list-of-hyphenated-words-to-break-up-on-paper"
                "/and-more-of-them-so-that-it-wraps-in-the-wide-list-of-resources-too-x-y-z")

SEGMENTS = 11  # more than 9: the run sheet's dense variant
DENSE = module(
    "title: Dense links\nminutes: 55\nobjectives: [Read a long link]\n"
    f"prework:\n  - title: Hyphens\n    url: {URL}\n    minutes: 5\n    kind: reading\n"
    f"  - title: Token\n    url: {TOKEN_URL}\n    kind: video\n"
    f"resources:\n  - title: Further reading\n    url: {RESOURCE_URL}",
    "\n".join(
        f"## Part {k} {{minutes=5 kind={'discussion' if k % 2 else 'activity'}}}\n\n"
        f"::: say\nSay `code-{k}` and H<sub>2</sub>O and <small>small</small> x<sup>2</sup>.\n:::\n\n"
        f"::: timing\ncut: drop `step-{k}` when late\n:::\n"
        for k in range(1, SEGMENTS + 1)),
)

# Built at A4: the fixture session with links of every kind (test_links reads that build's
# actions; its run sheet is the fixture's, the links and resources are not on it), and the
# dense session. At Letter: the dense session alone (the fixture session's Letter run sheet
# is read from LONG_KIT's build).
DENSE_KIT = {"content/fixture/01-fixture.md": LINKED_MODULE, "content/fixture/02-dense.md": DENSE}
DENSE_ONLY = {"content/fixture/01-fixture.md": None, "content/fixture/02-dense.md": DENSE}

# --- a long session whose boxes and headings fall at many heights (test_print, test_printfix) --

PARTS = 8


def long_module() -> str:
    """Session 2: segments that open with a tall boxed anecdote, followed by talk of growing
    length, so that headings and boxes fall at many heights on the page (without the
    keep-together rules, some boxes split and some headings are left at a page's foot);
    and a resource link."""
    front = ("---\ntitle: Long Session\nminutes: 80\nobjectives: [Survive page breaks]\n"
             "prework:\n  - title: Second video\n    url: https://example.org/second-video\n"
             "    minutes: 5\n    kind: video\n"
             "resources:\n  - title: Further reading\n    url: https://example.org/further\n---\n"
             "Overview of the long session.\n\n")
    body = []
    for k in range(1, PARTS + 1):
        story = " ".join(["The story goes on, with one more detail that the room remembers."] * 9)
        paragraph = "Talking point about the part, said slowly and with an example from the room. " * 3
        talk = "\n\n".join([f"TALK-{k} follows the story."] + [paragraph.strip()] * (k + 1))
        body.append(f"## Part number {k} {{minutes=10 kind=discussion}}\n\n"
                    f"::: anecdote Story {k}\npoint: The point {k}.\nsource: A facilitator.\n"
                    f"retell: Briefly.\n\nBOXSTART-{k} {story} BOXEND-{k}\n:::\n\n{talk}\n")
    return front + "\n".join(body)


# The fixture session and the long one; test_print builds it at Letter size.
LONG_KIT = {"content/fixture/02-long.md": long_module()}


# --- the tiny kit that test_hardening and test_output_folder build once and copy ------------

# The smallest valid session, and a user's temporary file in its course folder (the test of
# what a build deletes needs it there when the cache is made; to every other test it is one
# more file in the kit, which the build reads and leaves alone).
TINY_KIT = {"content/fixture/01-fixture.md": TINY_MODULE, "content/fixture/.notes.tmp": "mine"}


# --- two sessions, the second with a few block kinds (test_engine, test_assemble) -----------

# The second session: the fixture's MODULE cut down to what these tests need (its pre-work
# link, whose QR code is drawn on the worksheet; a prompt with an answer, for the answer
# key; a pair activity; the anecdote the edit test changes; the talking point the heading
# test lengthens, and a Wrap-up after it). The tests that only need every document of a
# kit rendered again (a template or option change, workers replaced after each document)
# use the one-session TINY_KIT.

def without(text: str, *pieces: str) -> str:
    for piece in pieces:
        assert piece in text, f"MODULE changed: {piece!r} is not in it"
        text = text.replace(piece, "", 1)
    return text


SECOND = without(
    MODULE.replace("title: Fixture Session", "title: Second Session"),
    "materials: [Whiteboard]\npreparation:\n  - task: Read the module\n    minutes: 30\n",
    "think_about:\n  - What is a fixture?\n",
    "::: say\nFAC-SAY welcome back.\n:::\n\n",
    "::: note\nFAC-NOTE only for the facilitator.\n:::\n\n",
    "debrief:\n  - PART-DEBRIEF what was hard?\n",
    "::: example FAC-EXAMPLE-TITLE\nproduct: widget\n\nFAC-EXAMPLE-TEXT the widget learns.\n:::\n\n",
    "::: cut FAC-CUT skip the anecdote\nsaves: 5\n:::\n\n",
    "::: question\nFAC-QUESTION why?\n\n:::: answer\nFAC-QANSWER because.\n::::\n:::\n\n",
    "::: misconception\nFAC-MISCONCEPTION more data always helps.\n\n"
    ":::: answer\nFAC-MANSWER not always.\n::::\n:::\n\n",
    "\n::: timing\nadd: FAC-ADD another flip\n:::\n")


# Two sessions: the tiny one, and a second with a few block kinds (SECOND). Built once per
# run with jobs=1 by shared_builds (test_engine's sequential build; test_assemble reads its
# whole-course guide), and by test_engine's `cold` fixture with two workers.
TWO_SESSION_KIT = {"content/fixture/01-fixture.md": TINY_MODULE, "content/fixture/02-second.md": SECOND}
