"""The switches of the highlight-row templates, off unless a view or an include turns them on.

A page draws fifty rows, and each row's templates ask whether it is an out-of-band swap, shows
its source, has a status or an error to announce, ... Django answers a question about a variable
that is not there by raising and catching three exceptions (about 25 µs): a tenth of a row's
time. Present and false, the same question costs a dictionary lookup. A view's own values, and
an include's `with`, sit above these and win.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

ROW_SWITCHES: dict[str, Any] = {
    "oob": False,
    "actions_oob": False,
    "selectable": False,
    "show_source": False,
    "in_search": False,
    "status": "",
    "error": "",
}


def row_switches(request: HttpRequest) -> dict[str, Any]:
    return ROW_SWITCHES
