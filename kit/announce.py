"""`kit announce`: the weekly pre-work announcement, in Markdown for chat or e-mail.

It says which session is next (and, with a delivery, when and where), lists the
pre-work with links and minutes, the total time, and the questions to think
about before class. It uses only what participants may see: no facilitator
material (overview, talking points, answers) ever reaches it.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from kit import model as m
from kit.delivery import Delivery, format_date, load_delivery
from kit.i18n import format_clock
from kit.edit import find_module, one_session
from kit.i18n import gettext as _
from kit.i18n import kind_word, using
from kit.loader import load_kit


def _text(value: str) -> str:
    """Author text inside a Markdown line: on one line, with link brackets escaped."""
    return re.sub(r"([\[\]])", r"\\\1", " ".join(value.split()))


def _url(url: str) -> str:
    return f"<{url}>" if re.search(r"[\s()<>]", url) else url


def _minutes(item: m.PreworkItem) -> str:
    if item.minutes is None:
        return _("time not given")
    return (_("%(n)s min, estimated") if item.estimate else _("%(n)s min")) % {"n": item.minutes}


def announcement(course: m.Course, session: m.Session, delivery: Delivery | None = None) -> str:
    """The announcement of `session` as Markdown text, in the course's language (or the
    delivery's, when its file sets one)."""
    language = delivery.language if delivery is not None and delivery.language else course.language
    with using(language):
        return _announcement(course, session, delivery)


def _announcement(course: m.Course, session: m.Session, delivery: Delivery | None) -> str:
    out = [_("**%(course)s, session %(number)s: %(title)s**")
           % {"course": _text(course.title), "number": session.number, "title": _text(session.title)}, ""]
    if delivery is not None:
        index = course.sessions.index(session)
        day: dt.date = delivery.dates(len(course.sessions))[index]
        out.append(_("- **When:** %(date)s, %(start)s–%(end)s")
                   % {"date": format_date(day), "start": delivery.start,
                      "end": format_clock(delivery.start_minutes + session.minutes)})
        if delivery.room:
            out.append(_("- **Where:** %(room)s") % {"room": _text(delivery.room)})
        if delivery.facilitator:
            out.append(_("- **Facilitator:** %(name)s") % {"name": _text(delivery.facilitator)})
        out.append("")
    if session.prework:
        out += [_("**Before the session**, please work through:"), ""]
        for item in session.prework:
            word = kind_word(item.kind)
            label = word[:1].upper() + word[1:]
            link = f"[{_text(item.title)}]({_url(item.url)})" if item.url else _text(item.title)
            out.append(f"- {label}: {link} ({_minutes(item)})")
        out.append("")
        total = session.prework_minutes
        if any(item.minutes is None for item in session.prework):
            length = _("at least %(n)s minutes (one item does not say how long it takes)") % {"n": total}
        elif session.prework_has_estimates:
            length = _("about %(n)s minutes (some times are estimates)") % {"n": total}
        else:
            length = _("%(n)s minutes") % {"n": total}
        out += [_("**Total pre-work:** %(length)s.") % {"length": length}, ""]
    else:
        out += [_("There is no pre-work for this session."), ""]
    if session.think_about:
        out.append(_("**Questions to think about** before we meet:"))
        out.append("")
        out += [f"{i}. {_text(q)}" for i, q in enumerate(session.think_about, 1)]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def announce(root: Path, session: str, course: str | None = None,
             delivery: Path | None = None) -> str:
    """Load the kit and return the announcement for `session` (NN, slug or a module's path)."""
    ref = find_module(root, session, course)
    loaded = load_kit(ref.root, ref.course)
    the_delivery = load_delivery(Path(delivery), loaded.problems) if delivery else None
    one = one_session(ref, loaded.kit, loaded.problems, (Path(delivery),) if delivery else ())
    return announcement(one.course, one.session, the_delivery)

