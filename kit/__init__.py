"""Facilitator Kit: compile a course written as Markdown modules into printable PDFs."""

__version__ = "0.1.0"
