"""Exit codes: the BSD sysexits meaning of each kind of failure (the README has the table).

Scripts and the console tell failures apart by these numbers, so they never change:
64 usage (click's own usage errors are folded in here), 65 bad data, 66 no such input,
69 a service unavailable, 75 temporary failure, 78 configuration, 1 anything else,
130 interrupted, 141 the reader of the output went away.
"""

from __future__ import annotations

from crm.errors import Kind

OK = 0
SOFTWARE = 1
USAGE = 64
DATA = 65
NO_INPUT = 66
UNAVAILABLE = 69
TEMPORARY = 75
CONFIG = 78
INTERRUPTED = 130
BROKEN_PIPE = 141  # 128 + SIGPIPE: whoever read the output stopped reading

BY_KIND = {
    Kind.USAGE: USAGE,
    Kind.DATA: DATA,
    Kind.NO_INPUT: NO_INPUT,
    Kind.UNAVAILABLE: UNAVAILABLE,
    Kind.TEMPORARY: TEMPORARY,
    Kind.CONFIG: CONFIG,
    Kind.SOFTWARE: SOFTWARE,
}
