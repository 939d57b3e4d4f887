"""Commands every bound person has: /help, /cancel, /lang."""

from __future__ import annotations

from collections.abc import Iterable

from handlers.context import Context
from handlers.flow import Flow
from handlers.i18n import LANGUAGES, normalise_language, translator
from handlers.permissions import permits
from handlers.types import Inbound, Reply
from models.permissions.matrix import Action as MatrixAction

#: Chinese words and English aliases that work like the slash commands.
KEYWORDS: dict[str, str] = {
    "帮助": "help",
    "help": "help",
    "取消": "cancel",
    "语言": "lang",
    "language": "lang",
}


def help_reply(ctx: Context, flows: Iterable[Flow]) -> Reply:
    _ = ctx.t._
    lines = [_("您可以发送：")]
    for flow in flows:
        if flow.allowed(ctx) and (flow.offered is None or flow.offered(ctx)) and flow.describe:
            lines.append(f"/{flow.name} — {_(flow.describe)}")
    if permits(ctx, MatrixAction.VISIT_LOG):
        lines.append(
            _(
                "也可以直接发一句话记录家访，例如：今天上门家访了三(2)班张小明，见了奶奶，最近作业按时完成"
            )
        )
    lines.append("/cancel — " + _("放弃当前操作"))
    lines.append("/lang en — English · /lang zh — 中文")
    return Reply("\n".join(lines))


def unknown_command(ctx: Context, name: str) -> Reply:
    return Reply(ctx.t._("没有 /{name} 这个命令。发送 /help 查看可以做什么。").format(name=name))


async def language(inbound: Inbound, ctx: Context, args: str) -> list[Reply]:
    wanted = args.strip().lower()
    if wanted not in LANGUAGES:
        return [
            Reply(
                ctx.t._("请发送 /lang zh 使用中文，或 /lang en 使用英文。当前语言：{name}").format(
                    name=LANGUAGES[ctx.t.language]
                )
            )
        ]
    language_code = normalise_language(wanted)
    if ctx.account is not None:
        ctx.account.language = language_code
        ctx.session.add(ctx.account)
        ctx.account_changed()
    ctx.t = translator(language_code)
    return [Reply(ctx.t._("好的，之后将使用中文与您交流。"))]
