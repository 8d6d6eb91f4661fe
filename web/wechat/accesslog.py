"""The app's access log, without what WeChat puts into the query string of ``/wechat``.

WeChat calls ``/wechat?signature=…&timestamp=…&nonce=…&openid=<the resident's OpenID>…``; aiohttp's
access logger would write that line, OpenID included, into the app's log. This one logs ``/wechat``
requests without their query string (everything else as aiohttp does).
"""
from __future__ import annotations

import logging

from aiohttp.web_log import AccessLogger, KeyMethod
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

PATH = "/wechat"


def _request_line(request: BaseRequest, response: StreamResponse, time: float) -> str:
    """aiohttp's ``%r`` (the request line), with ``/wechat``'s path only."""
    if request is None:
        return "-"
    target = request.path_qs
    if request.path.startswith(PATH) and request.query_string:
        target = request.rel_url.raw_path
    return f"{request.method} {target} HTTP/{request.version.major}.{request.version.minor}"


class RedactingAccessLogger(AccessLogger):
    def __init__(self, logger: logging.Logger, log_format: str = AccessLogger.LOG_FORMAT) -> None:
        super().__init__(logger, log_format)
        # Only ``%r`` shows the query string: its formatter is swapped for one that leaves it out of
        # /wechat's line (a copy of the list: aiohttp shares compiled formats between loggers). Cloning
        # every request without its query, as before, cost more than writing the line.
        self._methods = [KeyMethod(key, _request_line) if method is AccessLogger._format_r else KeyMethod(key, method)
                         for key, method in self._methods]
