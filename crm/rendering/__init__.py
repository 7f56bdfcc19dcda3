"""Email rendering: animator content in the shipped layouts, safely, once per language.

See ``renderer`` for the two halves (prepare once / render per recipient) and
``templates/email/README.md`` for the template files.
"""

from crm.rendering.errors import RenderLimitExceeded, TemplateError
from crm.rendering.layouts import KINDS, direction
from crm.rendering.renderer import Content, PreparedTemplate, RenderedMessage, Renderer
from crm.rendering.schemes import ALLOWED_SCHEMES
from crm.rendering.variables import CONTACT_FIELDS, EVENT_FIELDS, EXTRA_FIELDS, LINK_FIELDS

__all__ = [
    "ALLOWED_SCHEMES", "CONTACT_FIELDS", "EVENT_FIELDS", "EXTRA_FIELDS", "KINDS", "LINK_FIELDS",
    "Content", "PreparedTemplate", "RenderLimitExceeded", "RenderedMessage", "Renderer",
    "TemplateError", "direction",
]
