"""What the merchant and the agent are told, and when an SMS may go out.

Pure: the message value handed to the notifier port (adapters/notify.py), the texts of every
message kind in Chinese and English for SMS and email, and the daytime window for SMS in the
tenant's timezone. Nothing here talks to AWS or reads the clock: callers pass `now`.

Context (`ctx`) keys, all kinds except the digest:
    sn, pay_url, agent_name, expires_on (date or ISO string); tid and merchant_name optional.
Per kind:
    reminder: days_left · grace_started: grace_end · receipt: amount_fen (int, fen), expires_on is
    the new expiry · quota_80 / quota_100: data_used_mb, data_quota_mb (expires_on not needed) ·
    time_transfer_out / time_transfer_in (转赠): months (int), other_sn; expires_on is the new expiry.
    refund: amount_fen (int, fen) returned to the merchant; expires_on is the expiry after it.
Digest (email only): agent_name, date, expiring [{sn, merchant_name, expires_on, pay_url}],
    suspended [{sn, merchant_name, pay_url?}].
A missing key raises KeyError: the caller built the context wrongly, that is a bug, not data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

CHANNELS: tuple[str, ...] = ("sms", "email")
LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
KINDS: tuple[str, ...] = (
    "reminder",  # N days left before expiry
    "expires_today",
    "grace_started",  # expired, still working until grace_end
    "suspended",  # the SIM was suspended at the carrier
    "receipt",  # a renewal was paid and fulfilled
    "quota_80",
    "quota_100",
    "time_transfer_out",  # whole unused months moved from this terminal to another (转赠)
    "time_transfer_in",  # ...and to this one
    "refund",  # money went back to the merchant (退费); the expiry after it
    "digest",  # the agent's daily email: what expires soon, what was suspended
)
# The digest goes to the agent's mailbox; a list of terminals does not fit an SMS.
EMAIL_ONLY_KINDS: frozenset[str] = frozenset({"digest"})

# Daytime for SMS in the tenant's timezone: [09:00, 21:00). Nobody wants a renewal SMS at night.
SMS_WINDOW_START = time(9, 0)
SMS_WINDOW_END = time(21, 0)


@dataclass(frozen=True)
class Message:
    """One message ready for a channel: the notifier sends it as is."""

    channel: str  # "sms" | "email"
    to: str  # E.164 phone number for sms, email address for email
    subject: str | None  # email only
    body: str
    template: str  # the kind it was rendered from (one of KINDS)
    language: str  # "zh-CN" | "en"
    tenant_id: str
    sn: str | None  # the terminal, None for the agent digest
    dedupe_key: str  # the sweep's claim key: lets a provider or the outbox spot a repeat


# --- formatting helpers -------------------------------------------------------------------------


def format_fen(amount_fen: int, language: str) -> str:
    """Integer fen as money: 1234 -> "¥12.34" (zh-CN) or "CNY 12.34" (en). Never via float."""
    # bool is an int subclass; True fen is certainly a bug upstream.
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise TypeError(f"amount_fen must be an integer number of fen, got {amount_fen!r}")
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), 100)
    figure = f"{yuan:,}.{fen:02d}" if language == "en" else f"{yuan}.{fen:02d}"
    return f"{sign}¥{figure}" if language == "zh-CN" else f"{sign}CNY {figure}"


def _day(value: date | str) -> str:
    """A calendar date as ISO text; strings are parsed so a malformed date fails loudly here."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(str(value)).isoformat()


def _optional(ctx: Mapping[str, Any], key: str) -> str:
    """An optional text field; None and blanks count as absent (a terminal may have no TID yet)."""
    value = ctx.get(key)
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class _Fields:
    """What every terminal message mentions, already formatted for one language."""

    sn: str
    tid: str
    terminal: str  # "SN x (TID y)" or "SN x"
    agent: str
    merchant: str
    pay_url: str


def _fields(ctx: Mapping[str, Any], language: str) -> _Fields:
    sn = str(ctx["sn"])
    tid = _optional(ctx, "tid")
    if language == "zh-CN":
        terminal = f"SN {sn}（TID {tid}）" if tid else f"SN {sn}"
    else:
        terminal = f"SN {sn} (TID {tid})" if tid else f"SN {sn}"
    return _Fields(
        sn=sn,
        tid=tid,
        terminal=terminal,
        agent=str(ctx["agent_name"]).strip(),
        merchant=_optional(ctx, "merchant_name"),
        pay_url=str(ctx["pay_url"]),
    )


def _days_en(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _usage(ctx: Mapping[str, Any]) -> tuple[int, int, int]:
    """(used MB, quota MB, percent used rounded down); a zero quota reads as 100 %."""
    used, quota = int(ctx["data_used_mb"]), int(ctx["data_quota_mb"])
    percent = used * 100 // quota if quota > 0 else 100
    return used, quota, percent


# --- per-kind texts -------------------------------------------------------------------------------
# Each kind yields: the SMS text, the email subject, the email's lead paragraph and extra detail
# rows. The email frame (greeting, SN/TID rows, pay link, signature) is shared below.


@dataclass(frozen=True)
class _Texts:
    sms: str
    subject: str
    lead: str
    rows: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Template:
    """A kind's texts in one language: `str.format` templates over the kind's values (`_values`)."""

    sms: str
    subject: str
    lead: str
    rows: tuple[tuple[str, str], ...]  # (label, the name of the value it shows)


# The kinds whose texts are only their values put in place; each names the values it uses beyond
# the terminal's own (agent, terminal, sn, pay_url) and the expiry (exp): days_left (n, days),
# grace_end, amount.
_TEMPLATES: dict[str, dict[str, _Template]] = {
    "reminder": {
        "zh-CN": _Template(
            "【{agent}】您的POS终端{terminal}流量卡将于{exp}到期，剩{n}天，请及时续费以免影响收款：{pay_url}",
            "POS终端 {sn} 流量卡将于 {exp} 到期（剩 {n} 天）",
            "您的POS终端流量卡将于 {exp} 到期，还剩 {n} 天。到期后终端可能无法联网收款，请及时续费。",
            (("到期日", "exp"),),
        ),
        "en": _Template(
            "[{agent}] POS terminal {terminal}: data SIM expires {exp}, {days} left. Renew: {pay_url}",
            "POS terminal {sn}: data SIM expires on {exp} ({days} left)",
            "The data SIM of your POS terminal expires on {exp}, {days} from now. Without it the "
            "terminal cannot go online to take card payments, so please renew in time.",
            (("Expires on", "exp"),),
        ),
    },
    "expires_today": {
        "zh-CN": _Template(
            "【{agent}】您的POS终端{terminal}流量卡今天（{exp}）到期，请立即续费以免停机：{pay_url}",
            "POS终端 {sn} 流量卡今天（{exp}）到期",
            "您的POS终端流量卡今天（{exp}）到期。请立即续费，以免停机后无法收款。",
            (("到期日", "exp"),),
        ),
        "en": _Template(
            "[{agent}] POS terminal {terminal}: data SIM expires today ({exp}). Renew now: {pay_url}",
            "POS terminal {sn}: data SIM expires today ({exp})",
            "The data SIM of your POS terminal expires today ({exp}). Please renew now so that it is not "
            "suspended and the terminal keeps taking card payments.",
            (("Expires on", "exp"),),
        ),
    },
    "grace_started": {
        "zh-CN": _Template(
            "【{agent}】您的POS终端{terminal}流量卡已于{exp}到期，宽限期至{grace_end}，请尽快续费以免停机：{pay_url}",
            "POS终端 {sn} 流量卡已到期，{grace_end} 后停机",
            "您的POS终端流量卡已于 {exp} 到期，目前处于宽限期，仍可使用至 {grace_end}，之后将停机。请尽快续费。",
            (("到期日", "exp"), ("宽限期至", "grace_end")),
        ),
        "en": _Template(
            "[{agent}] POS terminal {terminal}: data SIM expired {exp}, suspended after {grace_end}. Renew: {pay_url}",
            "POS terminal {sn}: data SIM expired, suspension after {grace_end}",
            "The data SIM of your POS terminal expired on {exp}. It keeps working during a grace period until "
            "{grace_end}; after that it is suspended. Please renew as soon as possible.",
            (("Expired on", "exp"), ("Grace period until", "grace_end")),
        ),
    },
    "suspended": {
        "zh-CN": _Template(
            "【{agent}】您的POS终端{terminal}流量卡已停机（{exp}到期），续费后自动恢复：{pay_url}",
            "POS终端 {sn} 流量卡已停机",
            "您的POS终端流量卡已于 {exp} 到期且宽限期已过，现已停机，终端无法联网收款。续费成功后将自动恢复。",
            (("到期日", "exp"),),
        ),
        "en": _Template(
            "[{agent}] POS terminal {terminal}: data SIM suspended (expired {exp}). Renew to restore: {pay_url}",
            "POS terminal {sn}: data SIM suspended",
            "The data SIM of your POS terminal expired on {exp} and its grace period has ended, so it is now "
            "suspended and the terminal cannot take card payments. It is restored automatically once renewed.",
            (("Expired on", "exp"),),
        ),
    },
    "receipt": {
        "zh-CN": _Template(
            "【{agent}】您的POS终端{terminal}流量卡已续费{amount}，有效期至{exp}。续费页：{pay_url}",
            "续费成功：POS终端 {sn} 流量卡有效期至 {exp}",
            "已收到您的续费款 {amount}，POS终端流量卡有效期已延长至 {exp}。感谢您的支持！",
            (("金额", "amount"), ("新到期日", "exp")),
        ),
        "en": _Template(
            "[{agent}] Paid {amount}: POS terminal {terminal} data SIM now valid until {exp}. {pay_url}",
            "Renewal received: POS terminal {sn} data SIM valid until {exp}",
            "We received your renewal payment of {amount}. The data SIM of your POS terminal now runs until "
            "{exp}. Thank you!",
            (("Amount", "amount"), ("New expiry date", "exp")),
        ),
    },
    "refund": {
        "zh-CN": _Template(
            "【{agent}】您的POS终端{terminal}流量卡续费款已退还{amount}，有效期现至{exp}。查看：{pay_url}",
            "退款通知：POS终端 {sn} 已退还 {amount}",
            "您的续费款 {amount} 已原路退还（到账时间以支付渠道为准）。POS终端流量卡有效期现至 {exp}。",
            (("退款金额", "amount"), ("到期日", "exp")),
        ),
        "en": _Template(
            "[{agent}] Refunded {amount} for POS terminal {terminal}; data SIM now runs until {exp}. {pay_url}",
            "Refund: {amount} returned for POS terminal {sn}",
            "Your renewal payment of {amount} has been returned to where it came from (when it arrives depends "
            "on your payment provider). The data SIM of your POS terminal now runs until {exp}.",
            (("Refunded", "amount"), ("Expiry date", "exp")),
        ),
    },
}


def _values(kind: str, ctx: Mapping[str, Any], lang: str, f: _Fields) -> dict[str, str]:
    """What a kind's templates put in place; a key the kind needs and the context lacks: KeyError."""
    values = {"agent": f.agent, "terminal": f.terminal, "sn": f.sn, "pay_url": f.pay_url}
    values["exp"] = _day(ctx["expires_on"])
    if kind == "reminder":
        n = int(ctx["days_left"])
        values.update(n=str(n), days=_days_en(n))
    elif kind == "grace_started":
        values["grace_end"] = _day(ctx["grace_end"])
    elif kind in ("receipt", "refund"):
        values["amount"] = format_fen(ctx["amount_fen"], lang)
    return values


def _templated(kind: str) -> Callable[[Mapping[str, Any], str, _Fields], _Texts]:
    def texts(ctx: Mapping[str, Any], lang: str, f: _Fields) -> _Texts:
        template, values = _TEMPLATES[kind][lang], _values(kind, ctx, lang, f)
        return _Texts(
            sms=template.sms.format(**values),
            subject=template.subject.format(**values),
            lead=template.lead.format(**values),
            rows=tuple((label, values[name]) for label, name in template.rows),
        )

    return texts


def _time_transfer(outgoing: bool) -> Callable[[Mapping[str, Any], str, _Fields], _Texts]:
    def texts(ctx: Mapping[str, Any], lang: str, f: _Fields) -> _Texts:
        exp, months, other = _day(ctx["expires_on"]), int(ctx["months"]), str(ctx["other_sn"])
        if lang == "zh-CN":
            moved = f"{months}个月有效期已转赠至终端{other}" if outgoing else f"获终端{other}转入{months}个月有效期"
            return _Texts(
                sms=f"【{f.agent}】您的POS终端{f.terminal}流量卡{moved}，新到期日{exp}。{f.pay_url}",
                subject=f"POS终端 {f.sn} 流量卡{'转出' if outgoing else '转入'} {months} 个月，新到期日 {exp}",
                lead=f"您的代理商已办理流量卡有效期转赠：您的POS终端流量卡{moved}，有效期现至 {exp}。"
                "如有疑问请联系您的代理商。",
                rows=(("转赠至" if outgoing else "转自", other), ("月数", str(months)), ("新到期日", exp)),
            )
        unit = "1 month" if months == 1 else f"{months} months"
        moved_en = f"{unit} moved to terminal {other}" if outgoing else f"{unit} moved in from terminal {other}"
        return _Texts(
            sms=f"[{f.agent}] POS terminal {f.terminal}: {moved_en}; data SIM valid until {exp}. {f.pay_url}",
            subject=f"POS terminal {f.sn}: {moved_en}, valid until {exp}",
            lead=f"Your agent transferred unused SIM time: {moved_en}. The data SIM of your POS terminal now runs "
            f"until {exp}. For questions contact your agent.",
            rows=(
                ("To terminal" if outgoing else "From terminal", other),
                ("Months", str(months)),
                ("New expiry date", exp),
            ),
        )

    return texts


def _quota(threshold: int) -> Callable[[Mapping[str, Any], str, _Fields], _Texts]:
    def texts(ctx: Mapping[str, Any], lang: str, f: _Fields) -> _Texts:
        used, quota, percent = _usage(ctx)
        if lang == "zh-CN":
            state = f"已用{percent}%" if threshold < 100 else "已用完"
            return _Texts(
                sms=f"【{f.agent}】您的POS终端{f.terminal}本期流量{state}（{used}/{quota}MB），请留意，续费或加购：{f.pay_url}",
                subject=f"POS终端 {f.sn} 本期流量{state}",
                lead=(
                    f"您的POS终端流量卡本期流量已使用 {used} MB，套餐共 {quota} MB（{percent}%）。"
                    + ("流量用完后终端可能无法联网收款。" if threshold < 100 else "流量已用完，终端可能无法联网收款。")
                ),
                rows=(("已用流量", f"{used} MB / {quota} MB（{percent}%）"),),
            )
        state = f"has used {percent}% of its data" if threshold < 100 else "has used all its data"
        return _Texts(
            sms=f"[{f.agent}] POS terminal {f.terminal}: SIM {state} ({used}/{quota} MB). Renew: {f.pay_url}",
            subject=f"POS terminal {f.sn}: SIM {state}",
            lead=f"The data SIM of your POS terminal has used {used} MB of its {quota} MB plan ({percent}%). "
            + (
                "Once it runs out the terminal may not be able to take card payments."
                if threshold < 100
                else "It has run out: the terminal may not be able to take card payments."
            ),
            rows=(("Data used", f"{used} MB / {quota} MB ({percent}%)"),),
        )

    return texts


_TERMINAL_KINDS: dict[str, Callable[[Mapping[str, Any], str, _Fields], _Texts]] = {
    **{kind: _templated(kind) for kind in _TEMPLATES},
    "quota_80": _quota(80),
    "quota_100": _quota(100),
    "time_transfer_out": _time_transfer(outgoing=True),
    "time_transfer_in": _time_transfer(outgoing=False),
}


@dataclass(frozen=True)
class _Frame:
    """The email frame around a kind's lead and rows in one language: `str.format` templates."""

    greeting: str  # {merchant}
    anonymous: str  # the greeting without a merchant name
    sn: str  # the labels of the terminal's own rows
    tid: str
    row: str  # one detail row: {label} {value}
    close: str  # the pay link and the signature: {pay_url} {agent}


_FRAMES: dict[str, _Frame] = {
    "zh-CN": _Frame(
        "{merchant}，您好：",
        "您好：",
        "终端SN",
        "终端TID",
        "{label}：{value}",
        "在线续费：{pay_url}\n\n{agent}\n（此邮件由系统自动发送，请勿直接回复；如有疑问请联系您的代理商 {agent}。）\n",
    ),
    "en": _Frame(
        "Dear {merchant},",
        "Hello,",
        "Terminal SN",
        "Terminal TID",
        "{label}: {value}",
        "Renew online: {pay_url}\n\n{agent}\n(This email was sent automatically; please do not reply. For questions "
        "contact your agent, {agent}.)\n",
    ),
}


def _email(texts: _Texts, lang: str, f: _Fields) -> str:
    """The shared email frame around a kind's lead paragraph and detail rows."""
    frame = _FRAMES[lang]
    greeting = frame.greeting.format(merchant=f.merchant) if f.merchant else frame.anonymous
    rows = [(frame.sn, f.sn)] + ([(frame.tid, f.tid)] if f.tid else []) + list(texts.rows)
    detail = "\n".join(frame.row.format(label=label, value=value) for label, value in rows)
    return f"{greeting}\n\n{texts.lead}\n\n{detail}\n\n" + frame.close.format(pay_url=f.pay_url, agent=f.agent)


@dataclass(frozen=True)
class _DigestTexts:
    """The agent's digest in one language: `str.format` templates."""

    subject: str  # {agent}, {day}, and how many terminals expire soon ({expiring}) and were {suspended}
    body: str  # the same, with the lines of each list ({soon}, {gone})
    item: str  # one terminal expiring soon: {sn} {who} {exp} {pay_url}
    link: str  # the label before a suspended terminal's pay link
    none: str  # an empty list


_DIGESTS: dict[str, _DigestTexts] = {
    "zh-CN": _DigestTexts(
        "{agent} 每日摘要 {day}：{expiring} 台终端即将到期，{suspended} 台已停机",
        "{agent}，您好：\n\n以下是 {day} 的流量卡续费摘要。\n\n未来 7 天内到期（{expiring} 台）：\n{soon}\n\n"
        "已停机（{suspended} 台）：\n{gone}\n\n可将续费链接转发给商户，付款后有效期自动延长、停机的终端自动恢复。"
        "\n\nSimRenew 流量卡续费云\n",
        "- {sn}{who}  到期日 {exp}  续费链接：{pay_url}",
        "续费链接：",
        "（无）",
    ),
    "en": _DigestTexts(
        "{agent} daily digest {day}: {expiring} terminal(s) expiring soon, {suspended} suspended",
        "Hello {agent},\n\nHere is the SIM renewal digest for {day}.\n\nExpiring in the next 7 days ({expiring}):"
        "\n{soon}\n\nSuspended ({suspended}):\n{gone}\n\nForward a pay link to its merchant: once paid, the term "
        "is extended and a suspended terminal is restored automatically.\n\nSimRenew\n",
        "- {sn}{who}  expires on {exp}  pay link: {pay_url}",
        "pay link: ",
        "(none)",
    ),
}


def _digest(ctx: Mapping[str, Any], lang: str) -> tuple[str, str]:
    agent, day = str(ctx["agent_name"]).strip(), _day(ctx["date"])
    expiring: list[Mapping[str, Any]] = list(ctx["expiring"])
    suspended: list[Mapping[str, Any]] = list(ctx["suspended"])
    texts = _DIGESTS[lang]
    soon = [
        texts.item.format(sn=item["sn"], who=_digest_who(item), exp=_day(item["expires_on"]), pay_url=item["pay_url"])
        for item in expiring
    ] or [texts.none]
    gone = [f"- {item['sn']}{_digest_who(item)}{_digest_link(item, texts.link)}" for item in suspended] or [texts.none]
    counts = {"agent": agent, "day": day, "expiring": len(expiring), "suspended": len(suspended)}
    body = texts.body.format(**counts, soon="\n".join(soon), gone="\n".join(gone))
    return texts.subject.format(**counts), body


def _digest_who(item: Mapping[str, Any]) -> str:
    name = _optional(item, "merchant_name")
    return f"  {name}" if name else ""


def _digest_link(item: Mapping[str, Any], label: str) -> str:
    url = _optional(item, "pay_url")
    return f"  {label}{url}" if url else ""


def render(kind: str, language: str, ctx: dict[str, Any], channel: str) -> tuple[str | None, str]:
    """(subject, body) of a message kind in a language for a channel; the subject is None for SMS.

    Unknown kind, language or channel, or a digest asked for SMS: ValueError. A missing ctx key:
    KeyError. Bodies never carry more of the terminal than its SN and TID: no ICCID, no phone.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if kind in EMAIL_ONLY_KINDS:
        if channel != "email":
            raise ValueError(f"{kind!r} is sent by email only")
        return _digest(ctx, language)
    fields = _fields(ctx, language)
    texts = _TERMINAL_KINDS[kind](ctx, language, fields)
    if channel == "sms":
        return None, texts.sms
    return texts.subject, _email(texts, language, fields)


# --- quiet hours ----------------------------------------------------------------------------------


def _local(now_utc: datetime, tz: str) -> datetime:
    # A naive datetime would be read as the machine's local time: the wrong day in Lambda (UTC) or dev.
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be timezone-aware")
    return now_utc.astimezone(ZoneInfo(tz))


def sms_allowed_at(now_utc: datetime, tz: str) -> bool:
    """True when it is daytime (09:00 <= local time < 21:00) in the IANA timezone `tz`."""
    return SMS_WINDOW_START <= _local(now_utc, tz).time() < SMS_WINDOW_END


def next_sms_window(now_utc: datetime, tz: str) -> datetime:
    """When an SMS may go, in UTC: `now_utc` itself inside daytime, else the next 09:00 local.

    Before 09:00 that is today's 09:00, from 21:00 tomorrow's; built from the local calendar date
    so days of 23 or 25 hours (DST changes) still land on 09:00 local.
    """
    local = _local(now_utc, tz)
    if SMS_WINDOW_START <= local.time() < SMS_WINDOW_END:
        return now_utc.astimezone(UTC)
    day = local.date() if local.time() < SMS_WINDOW_START else local.date() + timedelta(days=1)
    return datetime.combine(day, SMS_WINDOW_START, tzinfo=ZoneInfo(tz)).astimezone(UTC)
