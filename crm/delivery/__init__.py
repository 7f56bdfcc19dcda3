"""The send pipeline: claim a batch, re-check suppression, render, send, record each result.

It depends only on the small interfaces it declares (`Transport`, `RateLimiter`,
the renderer's `prepare`/`render`), never on dramatiq or click.
"""
