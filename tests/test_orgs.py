"""Organisation profiles (`--org`): validation, applying a profile, check and build."""
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from kit import kinds
from kit import model as m
from kit.build import BuildOptions, build
from kit.check import check_kit_dir
from kit.cli import main
from kit.errors import KitError
from kit.loader import load_kit
from kit.orgs import Profile, ProfileExample, apply_org, gaps
from kit.paths import bundled_root
from kit.views import worksheet_view

from conftest import write_kit
from pdftext import pages_text
from htmltext import printed_pdfs

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
SAMPLE = HERE / "fixtures/orgs/example-org.yaml"

# Session 2: a talk segment, then a demo segment that holds the course's example.
SECOND = """\
---
title: Second session
minutes: 20
---
## Talk {minutes=10 kind=discussion}

FAC-S2-TALK the talk.

## Demo {minutes=10 kind=demo}

FAC-S2-BEFORE before the example.

::: example FAC-S2-BUNDLED
product: widget

FAC-S2-BUNDLED-TEXT the widget again.
:::

FAC-S2-AFTER after the example.
"""

# Session 3: no product example at all.
THIRD = """\
---
title: Third session
minutes: 10
---
## Only {minutes=10 kind=discussion}

FAC-S3-TALK no example here.
"""

# Globex: two products, one example of its own for session 2 (default segment).
PROFILE = """\
name: Globex
about: A test company with other products.
products:
  - id: gadget
    name: Globex Gadget
    about: Makes gadgets.
  - id: gizmo
    name: Globex Gizmo
examples:
  - session: "02"
    title: ORG-EXAMPLE-TITLE
    product: gadget
    text: |
      ORG-EXAMPLE-TEXT the gadget learns.
"""


def kit_with_sessions(root: Path) -> Path:
    return write_kit(root, {"content/fixture/02-second.md": SECOND, "content/fixture/03-third.md": THIRD})


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def kit(tmp_path):
    return kit_with_sessions(tmp_path / "kit")


def errors_of(root, profile, course=None):
    loaded = load_kit(root, course, profile)
    return [p.format() for p in loaded.problems.errors]


# --- validating a profile ---------------------------------------------------------------

def test_profile_loads_and_replaces_the_organisation(kit, tmp_path):
    loaded = load_kit(kit, None, write(tmp_path / "globex.yaml", PROFILE))
    assert loaded.problems.errors == []
    course = loaded.kit.courses[0]
    assert course.organisation.name == "Globex"
    assert [p.id for p in course.organisation.products] == ["gadget", "gizmo"]


def test_unknown_keys_list_the_valid_ones(kit, tmp_path):
    profile = write(tmp_path / "p.yaml", """\
        name: Globex
        colour: blue
        products:
          - id: gadget
            name: Globex Gadget
        examples:
          - session: "02"
            title: T
            product: gadget
            text: x
            slide: 4
        """)
    found = errors_of(kit, profile)
    assert f"{profile}:2: unknown key 'colour'; valid keys: name, about, fictional, products, examples, language" in found
    assert (f"{profile}:11: unknown key 'slide' in 'examples[1]'; valid keys: course, session, segment, "
            "title, product, text") in found
    assert len(found) == 2


def test_unknown_product_session_and_segment_name_the_valid_ones(kit, tmp_path):
    profile = write(tmp_path / "p.yaml", """\
        name: Globex
        products:
          - id: gadget
            name: Globex Gadget
        examples:
          - session: "02"
            title: Wrong product
            product: widget
            text: x
          - session: 7
            title: Wrong session
            product: gadget
            text: x
          - session: second
            segment: Questions
            title: Wrong segment
            product: gadget
            text: x
        """)
    found = errors_of(kit, profile)
    assert found == [
        f"{profile}:8: example names product 'widget', which the profile does not declare; its products: gadget",
        f"{profile}:10: no session '7' in course 'fixture'; sessions: 01-fixture, 02-second, 03-third",
        f"{profile}:15: no segment called 'Questions' in session 02-second; the segments are: 'Talk'; 'Demo'",
    ]


def test_missing_keys_and_a_profile_that_is_not_a_mapping(kit, tmp_path):
    profile = write(tmp_path / "p.yaml", "products:\n  - id: gadget\n    name: G\nexamples:\n  - title: T\n")
    found = errors_of(kit, profile)
    assert f"{profile}:1: missing required key 'name'" in found
    assert f"{profile}:5: missing required key 'session' in 'examples[1]'" in found
    assert f"{profile}:5: missing required key 'product' in 'examples[1]'" in found
    listed = write(tmp_path / "list.yaml", "- name: Globex\n")
    assert errors_of(kit, listed) == [f"{listed}:1: an organisation profile must be 'key: value' lines"]
    assert errors_of(kit, tmp_path / "missing.yaml") == [f"{tmp_path / 'missing.yaml'}:1: organisation profile not found"]


def test_several_courses_need_the_course_key(tmp_path):
    root = kit_with_sessions(tmp_path / "kit")
    write_kit(root, course="other")
    profile = write(tmp_path / "p.yaml", PROFILE + """\
  - course: nowhere
    session: "01"
    title: T
    product: gadget
    text: x
""")
    assert errors_of(root, profile) == [
        f"{profile}:10: the kit has several courses: say which this example is for with 'course:', "
        "one of fixture, other",
        f"{profile}:15: no course 'nowhere' in the kit; courses: fixture, other",
    ]
    named = write(tmp_path / "named.yaml", PROFILE.replace('  - session: "02"', '  - course: fixture\n    session: "02"'))
    assert errors_of(root, named) == []
    # Building only the other course leaves the fixture's examples out, without an error.
    assert errors_of(root, named, "other") == []


def test_an_image_in_a_profile_example_is_checked_at_its_line(kit, tmp_path):
    profile = write(tmp_path / "p.yaml", PROFILE + "      ![A chart](missing-chart.png)\n")
    found = errors_of(kit, profile)
    assert len(found) == 1
    assert found[0].startswith(f"{profile}:15: image 'missing-chart.png' not found")


# --- applying a profile --------------------------------------------------------------------

def test_without_a_profile_the_course_is_as_written(kit):
    course = load_kit(kit).kit.courses[0]
    assert course.organisation.name == "Acme"
    assert [b.title for b in course.sessions[1].blocks("example")] == ["FAC-S2-BUNDLED"]
    assert not any(s.blocks("byo") for s in course.sessions)


def test_apply_org_places_examples_and_finds_the_gaps(kit, tmp_path):
    loaded = load_kit(kit, None, write(tmp_path / "globex.yaml", PROFILE))
    course = loaded.kit.courses[0]
    first, second, third = course.sessions
    # Session 2 has Globex's example: it goes where the course's example stood, which is dropped.
    demo = second.segments[1]
    assert [b.kind for b in demo.blocks] == ["talk", "example", "talk"]
    assert demo.blocks[1].title == "ORG-EXAMPLE-TITLE" and demo.blocks[1].product == "gadget"
    assert "FAC-S2-BEFORE" in demo.blocks[0].text and "FAC-S2-AFTER" in demo.blocks[2].text
    assert second.segments[0].blocks == load_kit(kit).kit.courses[0].sessions[1].segments[0].blocks
    # Session 1 has no example for Globex: the course's example becomes a bring-your-own box.
    (byo,) = first.blocks("byo")
    assert isinstance(byo, m.ByoExample) and not kinds.for_participants(byo)
    assert byo.model.title == "FAC-EXAMPLE-TITLE" and byo.model_product == "Acme Widget"
    assert byo.organisation == "Globex" and byo.products == ("Globex Gadget", "Globex Gizmo")
    assert first.blocks("example") == ()
    # Session 3 never had an example: it is not a gap.
    assert third == load_kit(kit).kit.courses[0].sessions[2]
    assert [s.number for s in gaps(course)] == [1]
    # The timing of the run of show does not move.
    assert [seg.start for s in course.sessions for seg in s.segments] == \
        [seg.start for s in load_kit(kit).kit.courses[0].sessions for seg in s.segments]


def test_apply_org_is_pure_and_keeps_examples_for_shared_products(kit):
    course = load_kit(kit).kit.courses[0]
    same = m.Organisation("Acme again", "", (m.Product("widget", "Widget 2"),))
    applied = apply_org(course, Profile(same, (), "p.yaml"))
    assert gaps(applied) == ()
    assert applied.sessions == course.sessions and applied.organisation == same
    assert course.organisation.name == "Acme"  # the input is untouched

    other = m.Organisation("Initech", "", (m.Product("tps", "TPS Reports"),))
    named = ProfileExample("", "1", "wrap-up", m.Example("Mine", "tps", "Text", m.Source("p.yaml", 3)), {})
    applied = apply_org(course, Profile(other, (named,), "p.yaml"))
    assert [s.number for s in gaps(applied)] == [2]
    # A segment named by title (any case); the example goes at its end when it has none.
    assert applied.sessions[0].segments[2].blocks[-1].title == "Mine"
    assert applied.sessions[0].blocks("byo") == ()


def test_worksheets_never_get_examples_or_boxes(kit, tmp_path):
    course = load_kit(kit, None, write(tmp_path / "globex.yaml", PROFILE)).kit.courses[0]
    plain = load_kit(kit).kit.courses[0]
    for session, before in zip(course.sessions, plain.sessions):
        assert worksheet_view(session) == worksheet_view(before)


# --- kit check --org ------------------------------------------------------------------------

def test_check_lists_every_gap(kit, tmp_path):
    profile = write(tmp_path / "globex.yaml", PROFILE)
    result = CliRunner().invoke(main, ["check", str(kit), "--org", str(profile)])
    assert result.exit_code == 0, result.output
    gap_lines = [line for line in result.output.splitlines() if "bring your own example" in line]
    assert gap_lines == ["content/fixture/01-fixture.md:1: warning: no example for Globex's products "
                         "(gadget, gizmo); the guide will print a 'bring your own example' box"]
    strict = CliRunner().invoke(main, ["check", str(kit), "--org", str(profile), "--strict"])
    assert strict.exit_code == 1
    without = CliRunner().invoke(main, ["check", str(kit)])
    assert "bring your own example" not in without.output


def test_check_reports_profile_errors_by_line(kit, tmp_path):
    profile = write(tmp_path / "p.yaml", PROFILE.replace("product: gadget", "product: gadgett"))
    result = CliRunner().invoke(main, ["check", str(kit), "--org", str(profile)])
    assert result.exit_code == 1
    assert f"{profile}:12: error: example names product 'gadgett', which the profile does not declare; " \
           "its products: gadget, gizmo" in result.output
    assert "Traceback" not in result.output


def test_sample_profile_fits_the_bundled_course():
    problems = check_kit_dir(bundled_root(), None, SAMPLE)
    assert [p.format() for p in problems if p.severity == "error"] == []
    gapped = sorted(p.path for p in problems if "bring your own example" in p.message)
    course = sorted(str(Path("content/ml-for-engineering-teams") / f.name)
                    for f in (bundled_root() / "content/ml-for-engineering-teams").glob("[0-9][0-9]-*.md"))
    scale = sorted(str(Path("content/ml-at-scale") / f.name)
                   for f in (bundled_root() / "content/ml-at-scale").glob("[0-9][0-9]-*.md"))
    # Its two examples fill sessions 3 and 7; every other session with an example is a gap.
    assert gapped == sorted([p for p in course if not re.search(r"/0[37]-", p)] + scale)


def test_readme_profile_fits_the_bundled_course(tmp_path):
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- example-org -->\n```yaml\n(.*?)\n```", text, re.S)
    assert match, "the README lost its example profile"
    profile = write(tmp_path / "acme.yaml", match.group(1) + "\n")
    loaded = load_kit(bundled_root(), "ml-for-engineering-teams", profile)
    assert loaded.problems.errors == []
    session = loaded.kit.course("ml-for-engineering-teams").session("03")
    assert [b.title for b in session.blocks("example")] == ["The arrival times that jumped"]


def test_build_stops_on_a_bad_profile_before_writing(kit, tmp_path):
    profile = write(tmp_path / "p.yaml", PROFILE.replace('session: "02"', 'session: "09"'))
    with pytest.raises(KitError) as err:
        build(kit, BuildOptions(out=tmp_path / "out", org=profile, jobs=1))
    assert f"{profile}:10: no session '09'" in str(err.value)
    assert not (tmp_path / "out/fixture").exists()


# --- kit build --org: real PDFs, and the words of the guide -----------------------------

# The fixture kit with SECOND as session 2, and the same with the Globex profile (at the kit's root).
BUILT_KIT = {"content/fixture/02-second.md": SECOND}
BUILT_KIT_WITH_ORG = {**BUILT_KIT, "globex.yaml": PROFILE}


@pytest.fixture(scope="module")
def built(shared_builds, tmp_path_factory):
    """The kit built with the profile and without: (its PDFs with, without, the result with)."""
    _, with_org, result = shared_builds.get(BUILT_KIT_WITH_ORG, org="globex.yaml")
    # Without: a second build of the kit, into a copy of the first's folder (its cache too),
    # as `kit build` again into the same folder: what the profile changes is rendered again,
    # a document whose HTML is the same is taken from the cache.
    root = write_kit(tmp_path_factory.mktemp("kit"), BUILT_KIT)
    plain = tmp_path_factory.mktemp("plain") / "out"
    shutil.copytree(with_org, plain)
    build(root, BuildOptions(out=plain, jobs=1))
    return with_org / "fixture", plain / "fixture", result


def guide_words(root: Path, **options) -> dict[str, str]:
    """The words of each PDF a build of the kit would write, by its path in the course's
    output folder (htmltext.printed_pdfs): for the tests of what the guide says, where the
    pages' layout is not the point."""
    return {key.split("/", 1)[1]: text for key, text in printed_pdfs(root, **options).items()}


@pytest.fixture(scope="module")
def guides(tmp_path_factory):
    """The words of the guides of the kit that is built, with the profile and without."""
    root = write_kit(tmp_path_factory.mktemp("kit"), BUILT_KIT_WITH_ORG)
    return guide_words(root, org=root / "globex.yaml"), guide_words(root)


def test_guide_uses_the_organisations_examples(guides):
    with_org, _ = guides
    second = with_org["sessions/02-second-guide.pdf"]
    assert "ORG-EXAMPLE-TITLE" in second and "ORG-EXAMPLE-TEXT the gadget learns." in second
    assert "GLOBEX GADGET" in second.upper()  # the box's label names the product
    assert "FAC-S2-BUNDLED" not in second
    assert "Bring your own example".upper() not in second.upper()
    assert second.index("FAC-S2-BEFORE") < second.index("ORG-EXAMPLE-TEXT") < second.index("FAC-S2-AFTER")
    # the examples are the company's own: no advice for a company whose products differ
    assert "Globex" in second and "products are different?" not in second


def test_guide_prints_a_bring_your_own_box_where_there_is_a_gap(guides, built):
    with_org, _ = guides
    _, _, result = built
    first = with_org["sessions/01-fixture-guide.pdf"].upper()
    assert "BRING YOUR OWN EXAMPLE: GLOBEX" in first
    assert "REPLACE THIS WITH AN EXAMPLE FROM ONE OF YOUR PRODUCTS: GLOBEX GADGET, GLOBEX GIZMO." in first
    # The course's example, printed as the model, with its own product's name.
    assert "ACME WIDGET" in first
    assert "FAC-EXAMPLE-TITLE" in first and "FAC-EXAMPLE-TEXT THE WIDGET LEARNS." in first
    assert "YOUR EXAMPLE" in first
    # The box appears in the whole guide once, and the build warns about the gap.
    whole = with_org["facilitator-guide.pdf"].upper()
    assert whole.count("BRING YOUR OWN EXAMPLE: GLOBEX") == 1
    assert [w.path for w in result.warnings if "bring your own example" in w.message] == \
        ["content/fixture/01-fixture.md"]


def test_guide_front_names_the_organisations_products(guides):
    with_org, plain = guides
    front = with_org["facilitator-guide.pdf"]
    assert "Globex: the products in the examples" in front and "Makes gadgets." in front
    assert "Acme: the products in the examples" in plain["facilitator-guide.pdf"]


def test_worksheets_are_the_same_with_and_without_a_profile(built):
    with_org, plain, _ = built
    for name in ("participant-worksheets.pdf", "sessions/01-fixture-worksheet.pdf",
                 "sessions/02-second-worksheet.pdf"):
        text = pages_text(with_org / name)
        if name == "participant-worksheets.pdf":  # the cover names the organisation running it
            assert "Globex" in text[0]
            text[0] = text[0].replace("Globex", "Acme")
        assert text == pages_text(plain / name)
        joined = " ".join(text)
        for marker in ("ORG-EXAMPLE", "FAC-EXAMPLE", "FAC-S2-BUNDLED", "Bring your own", "BRING YOUR OWN"):
            assert marker not in joined


def test_a_build_without_a_profile_is_unchanged(guides):
    _, plain = guides
    guide = plain["facilitator-guide.pdf"]
    assert "FAC-EXAMPLE-TEXT the widget learns." in guide and "FAC-S2-BUNDLED-TEXT the widget again." in guide
    assert "Acme Widget" in guide
    for marker in ("ORG-EXAMPLE", "Globex", "BRING YOUR OWN", "Bring your own"):
        assert marker not in guide


def test_a_session_and_a_segment_are_named_the_same_way_in_a_profile_and_on_the_command_line():
    """One rule (kit.model.names_session, matching_titles) for `kit announce 003`, `kit add`
    and a profile's `session: 003`: the number with any leading zeros, the slug or the stem;
    a segment by its words, spacing ignored, exact case first."""
    from kit.model import matching_titles, names_session

    for key in ("3", "03", "003", "reducing-loss", "03-reducing-loss", "03-reducing-loss.md", " 3 "):
        assert names_session(key, 3, "reducing-loss", "03-reducing-loss"), key
    for key in ("0003", "4", "²", "reducing", "1" * 5000):
        assert not names_session(key, 3, "reducing-loss", "03-reducing-loss"), key
    titles = ["Recap", "Pair  flip", "recap notes", "RECAP"]
    assert matching_titles(titles, " pair flip ") == [1]
    assert matching_titles(titles, "Recap") == [0]
    assert matching_titles(titles, "recap") == [0, 3]  # ambiguous: the caller says so
