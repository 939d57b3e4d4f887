"""A local fake WeCom (企业微信) API over real HTTP (aiohttp, 127.0.0.1, a random port by default).

It serves, under `/cgi-bin/`, what the bot calls: `gettoken`, `message/send`,
`message/update_template_card`, `externalcontact/message/send` (school notices), `user/list`
and `school/user/list`. Point `bot.channels.wecom_api.WecomConfig.base_url` at `server.base_url`.

It records every call (`server.calls`) and every message it accepted (`server.delivered`), and
tests can make it misbehave:

* `server.expire_tokens()`: every token issued so far answers 42001 (expired) from now on;
* `server.fail_next(-1)` / `server.fail_next(45009, times=2)`: the next API calls answer that
  errcode (gettoken is not affected); `server.fail_path("school/user/list", 60011)`: every
  call to that path does;
* `server.hang_next()`: the next API call gets no answer until `server.release()` or the end.

Seed the directories with `server.add_member(userid, name, mobile)` and
`server.add_student(student_userid, name, (parent_userid, relation, mobile), …)`, or by setting
`server.members` / `server.students` to WeCom's own dicts.

Run it: `python -m tests.fakes.wecom_server [--port 8082]`; `GET /fake/calls` lists the calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from tests.fakes.local_http import LocalHttpServer

JSONDict = dict[str, Any]

#: Template cards that return a `response_code`.
INTERACTIVE_CARDS = frozenset({"button_interaction", "vote_interaction", "multiple_interaction"})


@dataclass
class Call:
    """One request: its path below /cgi-bin/, query parameters and JSON body."""

    path: str
    query: dict[str, str]
    body: JSONDict = field(default_factory=dict)


class WecomServer(LocalHttpServer):
    """`async with WecomServer() as server:` — then point the client at `server.base_url`."""

    def __init__(
        self,
        *,
        corp_id: str = "ww-test-corp",
        secret: str = "test-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        expires_in: int = 7200,
    ) -> None:
        self.corp_id = corp_id
        self.secret = secret
        super().__init__(host=host, port=port)
        self.expires_in = expires_in
        self.calls: list[Call] = []
        #: Bodies of the messages and notices accepted (message/send, externalcontact/…).
        self.delivered: list[Call] = []
        #: `user/list` answers these (dicts as WeCom returns them: userid, name, mobile, …).
        self.members: list[JSONDict] = []
        #: `school/user/list` answers these (student_userid, name, department, parents).
        self.students: list[JSONDict] = []
        #: Members who left: message/send answers ok but lists them in `invaliduser`.
        self.gone: set[str] = set()
        #: The response_code given for each interactive card, by its task_id.
        self.response_codes: dict[str, str] = {}
        #: Uploaded media by media_id: {"filename", "content_type", "size"} (no bytes kept).
        self.media: dict[str, JSONDict] = {}
        #: Calls answered 42001 (their token had expired).
        self.expired_answers = 0
        self._valid_tokens: set[str] = set()
        self._expired_tokens: set[str] = set()
        self._failures: list[int] = []
        self._failing_paths: dict[str, int] = {}
        self._hangs = 0
        self._release = asyncio.Event()
        self._counter = itertools.count(1)

    # -- test controls ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/cgi-bin/"

    def expire_tokens(self) -> None:
        """Every token issued so far is expired: calls with it answer 42001."""
        self._expired_tokens |= self._valid_tokens
        self._valid_tokens.clear()

    def fail_next(self, errcode: int, times: int = 1) -> None:
        """The next `times` API calls (not gettoken) answer `errcode`."""
        self._failures.extend([errcode] * times)

    def fail_path(self, path: str, errcode: int) -> None:
        """Every call to `path` (e.g. "school/user/list") answers `errcode` from now on."""
        self._failing_paths[path] = errcode

    def hang_next(self) -> None:
        """The next API call stays unanswered until `release()` (or the server stops)."""
        self._hangs += 1
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    # -- seed data (what `user/list` and `school/user/list` answer) --------------------------

    def add_member(
        self,
        userid: str,
        name: str,
        mobile: str | None = None,
        *,
        departments: tuple[int, ...] = (1,),
    ) -> JSONDict:
        """A member of the school's WeCom (staff); without `mobile`, as if it were hidden."""
        member: JSONDict = {"userid": userid, "name": name, "department": list(departments)}
        if mobile is not None:
            member["mobile"] = mobile
        self.members.append(member)
        return member

    def add_student(
        self,
        student_userid: str,
        name: str,
        *parents: tuple[str, str, str | None],
        departments: tuple[int, ...] = (1,),
    ) -> JSONDict:
        """A student in the 家校通讯录 with parents given as `(parent_userid, relation, mobile)`."""
        student: JSONDict = {
            "student_userid": student_userid,
            "name": name,
            "department": list(departments),
            "parents": [
                {"parent_userid": parent_userid, "relation": relation, "is_subscribe": 1}
                | ({"mobile": mobile} if mobile is not None else {})
                for parent_userid, relation, mobile in parents
            ],
        }
        self.students.append(student)
        return student

    # -- lifecycle -------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_route("*", "/cgi-bin/{path:.+}", self._api)
        app.router.add_get("/fake/calls", self._list_calls)
        return app

    async def stop(self) -> None:
        self.release()
        await super().stop()

    # -- handlers --------------------------------------------------------------------------

    async def _gettoken(self, request: web.Request) -> web.Response:
        self.calls.append(Call("gettoken", dict(request.query)))
        if request.query.get("corpid") != self.corp_id:
            return _error(40013, "invalid corpid")
        if request.query.get("corpsecret") != self.secret:
            return _error(40001, "invalid secret")
        token = f"fake-token-{next(self._counter)}"
        self._valid_tokens.add(token)
        return _ok(access_token=token, expires_in=self.expires_in)

    async def _api(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if path == "media/upload":
            body = await _upload_body(request)
        else:
            raw = await request.read()
            try:
                body = json.loads(raw.decode("utf-8")) if raw else {}
            except ValueError:
                return _error(47001, "data format error")
        call = Call(path, dict(request.query), body)
        self.calls.append(call)
        token = request.query.get("access_token", "")
        if token in self._expired_tokens:
            self.expired_answers += 1
            return _error(42001, "access_token expired")
        if token not in self._valid_tokens:
            return _error(40014, "invalid access_token")
        if self._hangs:
            self._hangs -= 1
            await self._release.wait()
            return _error(-1, "system busy")
        if self._failures or path in self._failing_paths:
            errcode = self._failures.pop(0) if self._failures else self._failing_paths[path]
            return _error(errcode, "system busy" if errcode == -1 else "api freq out of limit")
        handler = {
            "message/send": self._message_send,
            "message/update_template_card": self._update_card,
            "externalcontact/message/send": self._school_notice,
            "user/list": self._user_list,
            "school/user/list": self._school_user_list,
            "media/upload": self._media_upload,
        }.get(path)
        if handler is None:
            return _error(404, f"no such fake API: {path}")
        return handler(call)

    def _message_send(self, call: Call) -> web.Response:
        msgtype = call.body.get("msgtype")
        if not call.body.get("touser") or msgtype not in call.body:
            return _error(41006, "missing touser or content")
        self.delivered.append(call)
        extra: JSONDict = {}
        card = call.body.get("template_card") or {}
        if msgtype == "template_card" and card.get("card_type") in INTERACTIVE_CARDS:
            extra["response_code"] = f"response-{next(self._counter)}"
            self.response_codes[str(card.get("task_id", ""))] = extra["response_code"]
        invalid = "|".join(u for u in str(call.body["touser"]).split("|") if u in self.gone)
        return _ok(msgid=f"msg-{next(self._counter)}", invaliduser=invalid, **extra)

    def _update_card(self, call: Call) -> web.Response:
        if not call.body.get("response_code"):
            return _error(40058, "missing response_code")
        self.delivered.append(call)
        return _ok(invaliduser=[])

    def _school_notice(self, call: Call) -> web.Response:
        known = {p["parent_userid"] for s in self.students for p in s.get("parents", [])}
        wanted = call.body.get("to_parent_userid") or []
        invalid = [p for p in wanted if p not in known]
        self.delivered.append(call)
        return _ok(invalid_parent_userid=invalid, invalid_student_userid=[], invalid_party=[])

    def _media_upload(self, call: Call) -> web.Response:
        if call.query.get("type") != "image" or not call.body.get("size"):
            return _error(40004, "invalid media type or empty file")
        media_id = f"media-{next(self._counter)}"
        self.media[media_id] = call.body
        return _ok(type="image", media_id=media_id, created_at="1700000000")

    def _user_list(self, call: Call) -> web.Response:
        return _ok(userlist=self.members)

    def _school_user_list(self, call: Call) -> web.Response:
        return _ok(students=self.students)

    async def _list_calls(self, request: web.Request) -> web.Response:
        return web.json_response(
            [{"path": c.path, "query": c.query, "body": c.body} for c in self.calls]
        )


async def _upload_body(request: web.Request) -> JSONDict:
    """What a multipart `media/upload` carried: the file's name, type and size."""
    if not request.content_type.startswith("multipart/"):
        return {}
    reader = await request.multipart()
    async for part in reader:
        if isinstance(part, BodyPartReader) and part.name == "media":
            data = await part.read()
            return {
                "filename": part.filename or "",
                "content_type": part.headers.get("Content-Type", ""),
                "size": len(data),
            }
    return {}


def _ok(**fields: Any) -> web.Response:
    return web.json_response({"errcode": 0, "errmsg": "ok", **fields})


def _error(errcode: int, errmsg: str) -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg})


async def _serve(port: int) -> None:
    async with WecomServer(port=port) as server:
        print(f"fake WeCom API on {server.base_url}")
        print(f"  corp id {server.corp_id}, secret {server.secret}")
        print(f"  calls received: curl http://127.0.0.1:{server.port}/fake/calls")
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="a local fake WeCom API")
    parser.add_argument("--port", type=int, default=8082)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()
