"""The rendering errors: a person's mistake in content (named by place) or a limit hit."""

from __future__ import annotations

from crm.errors import ValidationError


class TemplateError(ValidationError):
    """Content or a template cannot be used; ``where`` names the place.

    ``where`` reads ``content[fr]:3`` (the animator's body, language, line), ``subject[fr]:1``
    or ``template[invitation/ar]`` (a shipped template), so that ``str(error)`` is
    ``content[fr]:3: unknown variable 'contact.nom'``.
    """


class RenderLimitExceeded(TemplateError):
    """A render went over its time or output-size budget (or asked for something that would)."""
