"""The app's access log, without what WeChat puts into the query string of ``/wechat``.

WeChat calls ``/wechat?signature=…&timestamp=…&nonce=…&openid=<the resident's OpenID>…``; aiohttp's
access logger would write that line, OpenID included, into the app's log. This one logs ``/wechat``
requests without their query string (everything else as aiohttp does).
"""
from __future__ import annotations

from aiohttp.web_log import AccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

PATH = "/wechat"


class RedactingAccessLogger(AccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if request is not None and request.path.startswith(PATH) and request.query_string:
            request = request.clone(rel_url=request.rel_url.with_query(None))
        super().log(request, response, time)
