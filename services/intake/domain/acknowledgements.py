"""What the customer is told when a case is taken (policy ch.6 §2.2): the case number, what
happens next and by when. Intake owns the wording, in Chinese, per kind and channel.
"""

from __future__ import annotations

from datetime import datetime

from services.intake.domain.incidents import Notice
from shared.clock import SHANGHAI

_TEMPLATES = {
    ("complaint", "hotline"): (
        "您的投诉已受理，受理编号{case_no}。我们会尽快安排相关部门处理，并于{due}前给您答复。"
        "如需补充情况，请致电客服热线并提供受理编号。"
    ),
    ("complaint", "email"): (
        "您好！您的投诉邮件已收到并受理，受理编号{case_no}。我们将于{due}前处理完毕并回复您。"
        "回复本邮件时请在主题中保留受理编号。"
    ),
    ("complaint", "online"): (
        "您的投诉已受理（受理编号{case_no}），我们将于{due}前处理并答复，处理进展可在网上营业厅查询。"
    ),
    ("consultation", "hotline"): "您的咨询已记录，受理编号{case_no}，我们将于{due}前答复您。",
    ("consultation", "email"): (
        "您好！您的咨询邮件已收到，受理编号{case_no}，我们将于{due}前回复您。"
    ),
    ("consultation", "online"): "您的咨询已记录（受理编号{case_no}），我们将于{due}前答复您。",
}


# a case linked to a network incident: the customer hears the incident's own message and ETA
_INCIDENT = "此次问题由区域网络故障引起：{message}"
_INCIDENT_ETA = "预计{eta}前恢复。"


def template_code(kind: str, channel: str, incident: bool = False) -> str:
    return f"ack.{kind}.{channel}{'.incident' if incident else ''}"


def format_due(due_at: datetime) -> str:
    local = due_at.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日{local:%H:%M}"


def render(
    kind: str, channel: str, case_no: str, due_at: datetime, incident: Notice | None = None
) -> str:
    text = _TEMPLATES[(kind, channel)].format(case_no=case_no, due=format_due(due_at))
    if incident is None:
        return text
    text += _INCIDENT.format(message=incident.message.rstrip("。. "))
    if incident.eta is None:
        return text + "。"
    return text + "，" + _INCIDENT_ETA.format(eta=format_due(incident.eta))


def needs_acknowledgement(kind: str, state: str, due_at: datetime, now: datetime) -> bool:
    """Every complaint; a consultation only when it was not answered at once. Never once its
    time limit has passed: a case recorded late (a history reported by another system) has
    nothing left to promise, and its customer is not told about it now."""
    if due_at <= now:
        return False
    return kind == "complaint" or state not in ("resolved", "closed")
