"""The send pipeline: claim a batch of deliveries, check each recipient again just before
their message, render, send, and record each result; and every statement on the deliveries
table (`queries`).

The engine is given its parts: a `Transport` (`crm.mail.transport`: SMTP or the .eml
outbox), a `RateLimiter` (`ratelimit`: in memory, or on Redis across workers) and a
`Composer` (`compose`: the renderer, the signed links, DKIM); `runtime` builds them from the
settings. It imports neither dramatiq nor click, nor the campaigns package: it reads whether
a campaign is still sending and reports when a campaign's work is done; `crm.campaigns.runner`
runs it and has the campaigns service change the status.
"""
