"""HTML for every document, from Jinja2 templates. No PDF engine here.

Templates come from the kit's own `templates/` first, then the bundled ones
(a ChoiceLoader, as in Pelican), so an author can override one template or the
CSS without copying the rest. Autoescape is on and undefined names are errors.
"""
from __future__ import annotations

from pathlib import Path

import jinja2

from kit.errors import KitError
from kit.markdown import render_markdown
from kit.paths import bundled_templates


def environment(kit_root: Path | None) -> jinja2.Environment:
    loaders = []
    if kit_root is not None and (kit_root / "templates").is_dir():
        loaders.append(jinja2.FileSystemLoader(str(kit_root / "templates")))
    loaders.append(jinja2.FileSystemLoader(str(bundled_templates())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml", "svg"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = render_markdown
    env.filters["mdi"] = lambda text: render_markdown(text, inline=True)
    return env


def render_template(env: jinja2.Environment, name: str, **context) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        where = getattr(exc, "filename", None) or name
        line = getattr(exc, "lineno", None) or 1
        raise KitError(f"{where}:{line}: template error: {exc.message or exc}") from None


def stylesheet(env: jinja2.Environment, name: str) -> str:
    """The raw text of a stylesheet, found like a template (the kit's first)."""
    try:
        source, _, _ = env.loader.get_source(env, name)
    except jinja2.TemplateNotFound:
        raise KitError(f"stylesheet not found: templates/{name}") from None
    return source
