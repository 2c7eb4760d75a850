"""The words the kit itself prints, in the course's language.

Message catalogues are gettext `.po` files in the package, one per language:
`kit/locale/<lang>/LC_MESSAGES/kit.po`, made from the template `kit/locale/kit.pot`
(extracted with Babel from kit/ and templates/; see the README). They are read at run
time with Babel (no compiled `.mo` file to build), once per language and process.

A course's `language` is a BCP 47 code: `de-CH` prints with the `de` catalogue and
Babel's `de_CH` dates. `supported()` says whether the kit has a catalogue for a code.

Templates get `_()`, `ngettext()`, `pgettext()` and `{% trans %}` from Jinja's i18n
extension (kit.render installs the catalogue of the document's language). Python code
that builds printed strings calls this module's `gettext`, `ngettext` and `pgettext`,
which use the language set with `using(language)` for the current thread or task (English
when none is set), or a `translator(language)` explicitly.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from kit.paths import PACKAGE

LOCALE_DIR = PACKAGE / "locale"
DOMAIN = "kit"
DEFAULT = "en"

# The kit's own English date: 'Wednesday 13 January 2027' (not CLDR's US English).
ENGLISH_DATE = "EEEE d MMMM y"


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """The languages the kit has a catalogue for, sorted: ('de', 'en', 'es', 'fr')."""
    if not LOCALE_DIR.is_dir():
        return (DEFAULT,)
    return tuple(sorted(p.name for p in LOCALE_DIR.iterdir() if catalogue_path(p.name).is_file()))


def base(code: str) -> str:
    """The catalogue's name for a language code: 'de-CH' -> 'de', 'EN' -> 'en'."""
    return code.replace("_", "-").split("-")[0].lower()


def supported(code: str) -> bool:
    return base(code) in languages()


def unsupported_message(code: str) -> str:
    return (f"language '{code}' is not one the kit prints its own words in; "
            f"supported: {', '.join(languages())} (a regional code such as de-CH uses its language's words)")


def _null():
    from babel.support import NullTranslations

    return NullTranslations()


_LOCK = threading.Lock()


@functools.lru_cache(maxsize=None)
def translations(language: str):
    """The catalogue of `language` (its base: 'de' for 'de-CH') as a gettext Translations
    object, read from the .po file with Babel; the identity for a language without one."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    path = catalogue_path(base(language))
    if not path.is_file():
        return _null()
    with _LOCK, open(path, "rb") as handle:
        catalog = read_po(handle, locale=base(language), domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # in memory: gettext's own reader of plural forms and contexts
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def babel_locale(language: str):
    """Babel's locale for a code: de-CH -> de_CH when Babel knows it, else its base."""
    from babel import Locale, UnknownLocaleError

    for code in (language.replace("-", "_"), base(language)):
        try:
            return Locale.parse(code)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(DEFAULT)


@dataclass(frozen=True)
class Translator:
    """The printed words of one language: gettext, ngettext, pgettext, dates and times."""
    language: str

    def gettext(self, message: str) -> str:
        return translations(self.language).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(self.language).ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return translations(self.language).pgettext(context, message)

    def date(self, day: dt.date) -> str:
        return format_date(day, self.language)

    def clock(self, minutes: int) -> str:
        return format_clock(minutes, self.language)


def translator(language: str | None = None) -> Translator:
    """The translator of `language`, else of the language `using()` set (English by default)."""
    return Translator(language or _CURRENT.get())


_CURRENT: contextvars.ContextVar[str] = contextvars.ContextVar("kit_language", default=DEFAULT)


@contextlib.contextmanager
def using(language: str) -> Iterator[Translator]:
    """Python-built strings in `language` inside the block (this thread or task only)."""
    token = _CURRENT.set(language or DEFAULT)
    try:
        yield translator(language)
    finally:
        _CURRENT.reset(token)


def current() -> str:
    return _CURRENT.get()


def gettext(message: str) -> str:
    return translator().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translator().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translator().pgettext(context, message)


def format_date(day: dt.date, language: str | None = None) -> str:
    """A session's date as printed: 'Wednesday 13 January 2027', 'Mittwoch, 13. Januar 2027'."""
    from babel.dates import format_date as babel_date

    language = language or current()
    if base(language) == "en":
        return babel_date(day, ENGLISH_DATE, locale="en")
    return babel_date(day, format="full", locale=babel_locale(language))


def format_clock(minutes: int, language: str | None = None) -> str:
    """Minutes after midnight as the language prints a time of day: '12:30' (24-hour in
    every shipped language; English keeps the kit's 24-hour '12:30')."""
    from babel.dates import format_time

    language = language or current()
    minutes %= 24 * 60
    if base(language) == "en":
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    return format_time(dt.time(minutes // 60, minutes % 60), format="short", locale=babel_locale(language))


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for a marker
    """Marks a message for the catalogue where it is defined; it is translated where printed."""
    return message


# Words the kit prints from names in its data (segment kinds, pre-work kinds): listed here
# so that extraction puts them in the catalogue; printed with pgettext("kind", name).
def _n(context: str, message: str) -> str:
    return message


KIND_WORDS = (
    _n("kind", "opening"), _n("kind", "recap"), _n("kind", "discussion"), _n("kind", "pair"),
    _n("kind", "activity"), _n("kind", "demo"), _n("kind", "break"), _n("kind", "wrap-up"),
    _n("kind", "video"), _n("kind", "reading"), _n("kind", "exercise"),
    _n("kind", "anecdote"), _n("kind", "example"),
)


def kind_word(kind: str, language: str | None = None) -> str:
    """A kind's name as printed ('discussion' -> 'Diskussion')."""
    return translator(language).pgettext("kind", kind)
