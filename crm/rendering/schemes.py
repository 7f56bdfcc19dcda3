"""Link schemes: http, https, mailto and tel, and nothing else.

Autoescaping does not make ``href="javascript:…"`` safe. A literal link with another scheme
is refused when content is prepared (``content``). A link built from variables -- any URL
attribute whose value holds a Jinja tag, in the content or in the shipped templates -- is
wrapped at prepare time in ``{% filter crm_url %}…{% endfilter %}``, which checks the value
each render produces and turns a disallowed one into ``#``. The check reads the value the
way a browser does: entities decoded, ASCII whitespace and control characters ignored, case
folded (``J&#x61;va\\tScript:`` is ``javascript:``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
#: attributes whose value a mail client may follow or fetch
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "background", "poster", "cite",
                  "longdesc", "xlink:href", "data", "srcset", "lowsrc", "dynsrc")

_IGNORED = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_ATTRIBUTE = re.compile(
    r"(\s(?:" + "|".join(re.escape(a) for a in URL_ATTRIBUTES) + r")\s*=\s*)(\"[^\"]*\")",
    re.IGNORECASE,
)


def scheme_of(url: str) -> str | None:
    """The scheme a browser would see in ``url`` (an attribute value, entities allowed)."""
    cleaned = _IGNORED.sub("", html.unescape(url)).lower()
    m = _SCHEME.match(cleaned)
    return m.group(1) if m else None


def is_allowed(url: str) -> bool:
    """Relative links and the four allowed schemes pass; anything else does not."""
    scheme = scheme_of(url)
    return scheme is None or scheme in ALLOWED_SCHEMES


def url_filter(value: str) -> str:
    """The ``crm_url`` filter: the rendered attribute value if its scheme is allowed, else ``#``."""
    return value if is_allowed(str(value)) else "#"


def guard_dynamic_urls(document: str, has_tag: Callable[[str], bool],
                       wrap: Callable[[str], str]) -> str:
    """Wrap every double-quoted URL attribute value for which ``has_tag`` is true with ``wrap``.

    Run on the inlined document (lxml writes every attribute double-quoted), before the
    Jinja tags are put back.
    """

    def replace(m: re.Match[str]) -> str:
        value = m.group(2)[1:-1]
        return f'{m.group(1)}"{wrap(value)}"' if has_tag(value) else m.group(0)

    return _ATTRIBUTE.sub(replace, document)
