"""Courses in other languages: every word the kit prints follows the course's `language`.

A kit holds a course in each shipped language other than English, with a delivery. The
words each language's guide and worksheets print (labels, dates) are read from the HTML
the build renders, document by document as the PDFs are made of them (no PDF engine:
the words are the point, not the pages); the PDFs' language tags are read from a real
build of the same courses, each of one short session. English stays as it was: its
catalogue is the identity, and the bundled courses' PDFs are compared before and after
by hand (see the README).
"""
from __future__ import annotations

import datetime as dt
import html.parser
import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from pypdf import PdfReader

from kit import i18n
from kit.build import BuildOptions, Planner
from kit.delivery import load_delivery
from kit.errors import KitError, Problems
from kit.loader import load_kit
from kit.paths import PACKAGE, bundled_templates
from kit.scaffold import init_kit

from conftest import TINY_MODULE, write_kit
from htmltext import printed_pdfs

LANGUAGES = ("de", "es", "fr")
TEMPLATES = bundled_templates()
REPO = PACKAGE.parent

# Content in no language the catalogues hold: any English label in the PDFs came from the kit.
COURSE = """\
title: Qwx Kurs
audience: Zyx zyx
language: {language}
organisation:
  name: Qorp
  about: Qorp qorp.
  products:
    - id: gizmo
      name: Gizmo
      about: Gizmo gizmo.
moves:
  silence: Wqx wqx.
"""

MODULE = """\
---
title: Qwx Eins
minutes: 30
objectives:
  - Qwx qwx
prework:
  - title: Zzq zzq
    url: https://example.org/video
    minutes: 12
    kind: video
    estimate: true
materials: [Qwb]
preparation:
  - task: Qwp qwp
    minutes: 30
think_about:
  - Qwt qwt?
---
Qwo qwo.

## Qa {minutes=10 kind=recap}

::: say
Qsay qsay.
:::

:::: prompt Qpt
lines: 3

Qpx qpx?

::: answer
Qanswer.
:::
::::

## Qb {minutes=15 kind=pair}

::: pair Qpair
a: Qra
b: Qrb
minutes: 5
setup: 1
debrief-minutes: 4
debrief:
  - Qdeb?

Qpi qpi.
:::

::: anecdote Qanec
point: Qpoint
source: Qsource
retell: Qretell

Qstory.
:::

::: example Qexample
product: gizmo

Qextext.
:::

::: cut Qcut
saves: 4
:::

## Qc {minutes=5 kind=wrap-up}

::: question
Qquestion?

:::: answer
Qqanswer.
::::
:::

::: misconception
Qmisc.

:::: answer
Qmanswer.
::::
:::

::: check
fallback: Qfallback.

Qcheck?
:::

::: timing
add: Qadd
:::
"""

DELIVERY = """\
cohort: Qohort
facilitator: Qfac
room: Qroom
first_date: 2027-01-13
start: "12:30"
"""

DATES = {"de": "Mittwoch, 13. Januar 2027", "es": "miércoles, 13 de enero de 2027",
         "fr": "mercredi 13 janvier 2027", "en": "Wednesday 13 January 2027"}

# The debrief file's keys, printed as they are (grey) on the debrief page: not labels.
FILE_KEYS = {"cards", "ratings", "worked", "change", "feedback", "landed", "unanticipated"}


def kit_files(languages=LANGUAGES, module: str = MODULE) -> dict:
    files = {}
    for lang in languages:
        files[f"content/course-{lang}/course.yaml"] = COURSE.format(language=lang)
        files[f"content/course-{lang}/01-eins.md"] = module
    return files


# A course in each language, each of the smallest session: built once per test run.
TINY_COURSES = kit_files(module=TINY_MODULE)


@pytest.fixture(scope="module")
def built(shared_builds):
    """The output folder of a real build of a course in each language."""
    _, out, _ = shared_builds.get(TINY_COURSES, defaults=False)
    return out


# --- the words each PDF prints, from the HTML the build renders ---------------------------

@pytest.fixture(scope="module")
def pdf_words(tmp_path_factory) -> dict[str, str]:
    """The words of each PDF of the kit's courses, with the delivery (see printed_pdfs)."""
    root = write_kit(tmp_path_factory.mktemp("i18n-kit"), kit_files(), defaults=False)
    (root / "cohort.yaml").write_text(DELIVERY, encoding="utf-8")
    return printed_pdfs(root, delivery=root / "cohort.yaml")


def catalogue(lang: str):
    with open(i18n.catalogue_path(lang), "rb") as handle:
        return read_po(handle, locale=lang)


def pairs(lang: str) -> list[tuple[str, str]]:
    """(English, translation) of every message, each plural form with its English form."""
    found = []
    for message in catalogue(lang):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        for n, string in enumerate(strings):
            found.append((ids[min(n, len(ids) - 1)], string))
    return found


def words(text: str) -> str:
    """A message as it prints: no placeholders or markup, entities as characters."""
    text = re.sub(r"%\(\w+\)s", " ", text)
    text = re.sub(r"<[^>]+>", "", text)
    return " ".join(html.unescape(text).split())


def found(phrase: str, text: str) -> bool:
    phrase, text = phrase.casefold(), text.casefold()
    # the substring test first: the same answer, without a regular expression for most pairs
    return phrase in text and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def english_labels(lang: str) -> list[str]:
    """The catalogue's English labels that its translation changes: the pieces of each
    msgid between placeholders that no translation of the language also contains."""
    translated = [words(t) for _, t in pairs(lang)]
    labels = set()
    for english, translation in pairs(lang):
        if english == translation:
            continue
        for piece in re.split(r"%\(\w+\)s|<[^>]+>", english):
            piece = " ".join(html.unescape(piece).split()).strip(" .,:;·()")
            if len(piece) < 3 or piece.casefold() in FILE_KEYS or not re.search(r"[A-Za-z]{3}", piece):
                continue
            if any(found(piece, t) for t in translated):
                continue
            labels.add(piece)
    return sorted(labels)


# --- the guide and worksheets of each language ----------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_course_prints_its_language_labels_and_no_english_ones(pdf_words, lang):
    guide = pdf_words[f"course-{lang}/facilitator-guide.pdf"]
    sheets = pdf_words[f"course-{lang}/participant-worksheets.pdf"]
    words_of = i18n.translator(lang)
    for label in ("Objectives", "Materials", "Pre-work", "Your preparation", "Quick check", "Anecdote",
                  "Misconception", "Answer key", "Contents", "Debrief: five minutes after the session"):
        assert found(words_of.gettext(label), guide), (lang, label)
    for label in ("Participant worksheets", "Before the session", "Think about", "Pair flip", "Timer",
                  "Feedback on session %(number)s: %(title)s"):
        assert found(words(words_of.gettext(label) % {"number": 1, "title": "Qwx Eins"}), sheets), (lang, label)
    assert found(words_of.pgettext("kind", "recap"), guide)
    # not labels: the links, and the command that writes the debrief file
    guide, sheets = (re.sub(r"https://\S+|kit debrief \d+ --delivery DELIVERY\.yaml", " ", text) for text in (guide, sheets))
    english = [label for label in english_labels(lang) if found(label, guide) or found(label, sheets)]
    assert english == [], f"English labels in the {lang} PDFs: {english}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_delivery_dates_print_in_the_language(pdf_words, lang):
    guide = pdf_words[f"course-{lang}/facilitator-guide.pdf"]
    assert DATES[lang] in guide
    assert "Wednesday" not in guide and "January" not in guide


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_pdf_language_tag_follows_the_course(built, lang):
    for name in ("facilitator-guide.pdf", "participant-worksheets.pdf", "sessions/01-eins-guide.pdf"):
        reader = PdfReader(str(built / f"course-{lang}" / name))
        assert reader.trailer["/Root"]["/Lang"] == lang


def test_format_date_and_regional_codes():
    day = dt.date(2027, 1, 13)
    for lang, text in DATES.items():
        assert i18n.format_date(day, lang) == text
    assert i18n.format_date(day, "de-CH") == "Mittwoch, 13. Januar 2027"
    assert i18n.translator("de-CH").gettext("Objectives") == "Lernziele"
    assert i18n.format_clock(12 * 60 + 30, "fr") == "12:30" and i18n.format_clock(750, "en") == "12:30"
    assert i18n.translator("fr").ngettext("%(num)s minute", "%(num)s minutes", 1) == "%(num)s minute"
    assert i18n.translator("de").ngettext("%(num)s minute", "%(num)s minutes", 3) == "%(num)s Minuten"


# --- the catalogues -------------------------------------------------------------------------

def extracted() -> set:
    """The messages of kit/ and templates/ as pybabel extracts them now (README's command)."""
    method_map = [("kit/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True",
                                     "lstrip_blocks": "True"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
                "N_": None, "_n": ((1, "c"), 2)}
    messages = set()
    for _, _, message, _, context in extract_from_dir(str(REPO), method_map, options, keywords):
        messages.add((context, message if isinstance(message, str) else tuple(message)))
    return messages


def ids(cat) -> set:
    return {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)) for m in cat if m.id}


def test_the_template_holds_every_message_of_the_code():
    with open(i18n.LOCALE_DIR / "kit.pot", "rb") as handle:
        pot = ids(read_po(handle))
    missing = extracted() - pot
    assert not missing, f"not in kit/locale/kit.pot (extract it again, see the README): {sorted(missing)[:10]}"


@pytest.mark.parametrize("lang", ("en",) + LANGUAGES)
def test_each_catalogue_translates_every_message(lang):
    with open(i18n.LOCALE_DIR / "kit.pot", "rb") as handle:
        pot = ids(read_po(handle))
    cat = catalogue(lang)
    missing = pot - ids(cat)
    assert not missing, f"{lang}: no msgid for {sorted(missing)[:10]}"
    empty = [m.id for m in cat if m.id and not all(m.string if isinstance(m.string, tuple) else (m.string,))]
    assert not empty, f"{lang}: empty msgstr for {empty[:10]}"
    fuzzy = [m.id for m in cat if m.id and m.fuzzy]
    assert not fuzzy, f"{lang}: fuzzy (unchecked) translations: {fuzzy[:10]}"
    for message in cat:  # every placeholder of the English is in the translation
        if not message.id:
            continue
        english = " ".join(message.id) if isinstance(message.id, (tuple, list)) else message.id
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        for string in strings:
            assert set(re.findall(r"%\(\w+\)s", string)) <= set(re.findall(r"%\(\w+\)s", english)), message.id


def test_english_is_the_identity():
    for english, translation in pairs("en"):
        assert english == translation


def test_the_shipped_languages():
    assert i18n.languages() == ("de", "en", "es", "fr")
    assert i18n.supported("de-CH") and i18n.supported("EN") and not i18n.supported("pt")


# --- no literal words in the templates ------------------------------------------------------

CHECKED_ATTRIBUTES = {"alt", "aria-label", "title", "data-running", "data-prefix", "placeholder"}
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
WORD = re.compile(r"[^\W\d_]{2,}")


class Literals(html.parser.HTMLParser):
    """The words of the text and of the printed attributes, except inside a
    `<span class="key">`: a debrief file's key (`cuts_used`), printed as it is typed."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.in_key = False

    def handle_data(self, data):
        if not self.in_key:
            self.found += WORD.findall(data)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in CHECKED_ATTRIBUTES and value:
                self.found += WORD.findall(value)
        self.in_key = tag == "span" and ("class", "key") in attrs

    def handle_endtag(self, tag):
        self.in_key = False


def literal_words(source: str) -> list[str]:
    parser = Literals()
    parser.feed(JINJA.sub(" ", source))
    parser.close()
    return parser.found


def test_templates_hold_no_untranslated_words():
    checked = sorted(TEMPLATES.glob("*.html"))  # the run pages too: the projector is read by the room
    assert len(checked) >= 10 and {"run-presenter.html", "run-projector.html"} <= {p.name for p in checked}
    problems = {p.name: literal_words(p.read_text(encoding="utf-8")) for p in checked}
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_scan_finds_a_literal_word():
    assert literal_words('<p class="x">Objectives {{ _("Name") }}</p><img alt="A chart">') == [
        "Objectives", "chart"]
    assert literal_words('<p>{{ _("Name") }} · 1: ____ {% if x %}A{% endif %}</p>') == []
    assert literal_words('<h3>{{ _("Cuts you used") }} <span class="key">cuts_used</span></h3>') == []


# --- checks, overrides and kit init ---------------------------------------------------------

def test_an_unsupported_language_is_an_error_at_its_line(tmp_path):
    root = write_kit(tmp_path, {"content/fixture/course.yaml": COURSE.format(language="pt"),
                                "content/fixture/01-eins.md": MODULE}, defaults=False)
    errors = load_kit(root).problems.errors
    hits = [p for p in errors if "language 'pt'" in p.message]
    assert len(hits) == 1 and hits[0].path.endswith("course.yaml") and hits[0].line == 3
    assert "de, en, es, fr" in hits[0].message


def test_a_delivery_or_profile_may_set_the_language(tmp_path):
    root = write_kit(tmp_path, kit_files(("de",)), defaults=False)
    (root / "fr.yaml").write_text(DELIVERY + "language: fr\n", encoding="utf-8")
    (root / "pt.yaml").write_text(DELIVERY + "language: pt\n", encoding="utf-8")
    problems = Problems(root)
    assert load_delivery(root / "pt.yaml", problems) is None
    assert "supported: de, en, es, fr" in problems.errors[0].message and problems.errors[0].line == 6
    delivery = load_delivery(root / "fr.yaml", Problems(root))
    assert delivery is not None and delivery.language == "fr"
    course = load_kit(root).kit.courses[0]
    planner = Planner(root, BuildOptions(out=tmp_path / "out"), delivery)
    page = planner.guide_session(course, course.sessions[0]).html
    assert '<html lang="fr">' in page and "Objectifs" in page and "mercredi 13 janvier 2027" in page
    sheet = planner.worksheet_session(course, course.sessions[0]).html
    assert '<html lang="fr">' in sheet and "Fiche participant" in sheet

    (root / "org.yaml").write_text("name: Orga\nlanguage: es\nproducts: []\n", encoding="utf-8")
    loaded = load_kit(root, org_file=root / "org.yaml")
    assert loaded.kit.courses[0].language == "es"
    page = Planner(root, BuildOptions(out=tmp_path / "out")).guide_session(
        loaded.kit.courses[0], loaded.kit.courses[0].sessions[0]).html
    assert '<html lang="es">' in page and "Objetivos" in page
    (root / "bad-org.yaml").write_text("name: Orga\nlanguage: xx\n", encoding="utf-8")
    errors = load_kit(root, org_file=root / "bad-org.yaml").problems.errors
    assert any("language 'xx'" in p.message and p.line == 2 for p in errors)


def test_a_kits_own_template_uses_the_catalogue_inside_the_sandbox(tmp_path):
    root = write_kit(tmp_path, {**kit_files(("de",)), "templates/worksheet-front.html":
                                '<html lang="{{ course.language }}"><p>{{ _("Name") }} {{ _("Contents") }} '
                                '{% trans %}Sessions{% endtrans %} {{ "pair"|kind }}</p></html>'}, defaults=False)
    course = load_kit(root).kit.courses[0]
    page = Planner(root, BuildOptions(out=tmp_path / "out")).worksheet_front(course).html
    assert "<p>Name Inhalt Sitzungen Partnerarbeit</p>" in page
    (root / "templates" / "worksheet-front.html").write_text("{{ _.__globals__ }}", encoding="utf-8")
    with pytest.raises(KitError, match="template error"):
        Planner(root, BuildOptions(out=tmp_path / "out")).worksheet_front(course)
    # what a template fills in is escaped; the catalogue's text is not a template
    (root / "templates" / "worksheet-front.html").write_text(
        '{{ _("Schedule: %(cohort)s", cohort="<b>{{ 7 * 7 }}</b>") }}', encoding="utf-8")
    page = Planner(root, BuildOptions(out=tmp_path / "out")).worksheet_front(course).html
    assert page == "Terminplan: &lt;b&gt;{{ 7 * 7 }}&lt;/b&gt;"


def test_kit_init_in_german(tmp_path):
    init_kit(tmp_path / "neu", language="de")
    course_yaml = (tmp_path / "neu" / "content" / "my-course" / "course.yaml").read_text(encoding="utf-8")
    assert "\nlanguage: de\n" in course_yaml
    loaded = load_kit(tmp_path / "neu")
    assert loaded.problems.errors == []
    course = loaded.kit.courses[0]
    page = Planner(tmp_path / "neu", BuildOptions(out=tmp_path / "out")).guide_session(course, course.sessions[0]).html
    assert '<html lang="de">' in page
    for label in ("Lernziele", "Ablaufplan · auf dem Tisch bereithalten", "Nachbesprechung"):
        assert label in page
    with pytest.raises(KitError, match="supported: de, en, es, fr"):
        init_kit(tmp_path / "pt", language="pt")


def test_the_announcement_follows_the_language(tmp_path):
    from kit.announce import announcement

    root = write_kit(tmp_path, kit_files(("es",)), defaults=False)
    (root / "cohort.yaml").write_text(DELIVERY, encoding="utf-8")
    course = load_kit(root).kit.courses[0]
    text = announcement(course, course.sessions[0], load_delivery(root / "cohort.yaml", Problems(root)))
    assert "**Cuándo:** miércoles, 13 de enero de 2027, 12:30–13:00" in text
    assert "Vídeo: [Zzq zzq](https://example.org/video) (12 min, estimado)" in text
    assert "Before" not in text and "Questions" not in text
