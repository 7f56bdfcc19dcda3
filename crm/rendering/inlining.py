"""CSS inlining with premailer -- the expensive step, run once per prepared template.

The caller hands over a document whose Jinja tags are already tokens (``tags``): premailer
would otherwise URL-encode ``{{ x }}`` in ``href`` and escape ``>`` in ``{% if a > b %}``.
Rules that cannot be inlined (``@media`` for small screens) stay in a ``<style>`` block.
"""

from __future__ import annotations

import logging

_CSS_LOG_LEVEL = logging.CRITICAL  # cssutils warns about every modern property


def inline_css(document: str) -> str:
    """The document with its ``<style>`` rules copied into ``style`` attributes."""
    # Imported on first use: premailer (with cssutils and requests) takes about 0.1 s to
    # import, which every `crm` command and the enqueuing side of a send would pay.
    from premailer import Premailer

    return Premailer(
        document,
        base_url=None,
        disable_link_rewrites=True,
        allow_network=False,
        remove_classes=False,
        keep_style_tags=False,
        strip_important=False,
        disable_validation=True,
        exclude_pseudoclasses=True,
        cssutils_logging_level=_CSS_LOG_LEVEL,
        method="html",
    ).transform(pretty_print=False)
