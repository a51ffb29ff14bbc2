"""What the web app's access log may show."""

from __future__ import annotations

import logging


class AccessLogWithoutQuery(logging.Filter):
    """Keeps personal data and secrets out of uvicorn's access log lines.

    The client address is dropped (an IP address identifies a person), the query
    string is dropped (a link into the chat page or a shop's API call may carry e-mail
    addresses or customer ids), and the token of an export link is replaced.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, mark, _ = args[2].partition("?")
            if path.startswith("/export/"):
                path = "/export/<redacted>"
            record.args = ("-", args[1], f"{path}?<redacted>" if mark else path, *args[3:])
        return True
