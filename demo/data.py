"""The demo operator: departments, staff, routing rules, courses, texts — and fictitious people.

Personal data is generated so that it cannot belong to anyone:

- phone numbers are `0000` and seven digits: a landline shape intake accepts, but no number
  dialled inside China starts with `00` (that is the international prefix, and no country
  code starts with 0), so none of them reaches a subscriber;
- ID numbers carry the area code `990000`: GB/T 2260 assigns no province 99, so no resident
  card has it; the birth date exists and the check character is right (GB 11643), so intake
  accepts them;
- names are a common surname and one or two common given-name characters (many real people
  share any such name; nothing else ties one to them); e-mail addresses are at `example.com`
  (RFC 2606, reserved for examples).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

# --- fictitious personal data ----------------------------------------------------------------

PHONE_PREFIX = "0000"
ID_AREA = "990000"
EMAIL_DOMAIN = "example.com"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖"
    "田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付"
    "方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华兰萍红辉鹏飞"
    "宇浩然涵欣怡轩诺思远嘉晨曦俊桐佳琪志海燕春梅国庆建永丹东"
)


def id_check_character(first17: str) -> str:
    """GB 11643: the 18th character of a resident ID number."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def fictitious_phone(rng: random.Random) -> str:
    return f"{PHONE_PREFIX}{rng.randrange(10**7):07d}"


def fictitious_id_number(rng: random.Random) -> str:
    born = date.fromordinal(date(1950, 1, 1).toordinal() + rng.randrange(365 * 55))
    first17 = f"{ID_AREA}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_character(first17)


def fictitious_name(rng: random.Random, staff: bool = False) -> str:
    """Customers and staff draw surnames from halves of the list that do not overlap, so no
    customer's name can be found inside a member of staff's (staff names travel in events)."""
    surnames = SURNAMES[1::2] if staff else SURNAMES[0::2]
    return rng.choice(surnames) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


# --- the operator ----------------------------------------------------------------------------

SUPERVISOR = "demo-supervisor"
TRAINER = "demo-trainer"
CTI = "demo-cti"  # the call-centre system: hotline calls, and what agents do at their desks
WORK_ORDERS = "demo-workorders"  # the departments' work-order system
MAIL_GATEWAY = "demo-mail-gateway"
PORTAL = "/demo-portal"  # the online portal publishing case.requested
AGENTS = 24


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    ola_hours: float | None
    # members: (staff id suffix, categories they handle, regions they cover); empty = any
    members: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()


NORTH = ("Haidian", "Changping", "Shijingshan")
CENTRE = ("Dongcheng", "Xicheng", "Chaoyang")
SOUTH_EAST = ("Fengtai", "Daxing", "Tongzhou")

DEPARTMENTS = (
    Department("DEMO-HOTLINE", "客服热线 Customer service hotline", None),
    Department(
        "DEMO-TECH",
        "技术支持 Technical support",
        8.0,
        (
            ("01", ("signal", "set_top_box", "other"), ()),
            ("02", ("signal", "set_top_box", "other"), ()),
            ("03", ("set_top_box",), NORTH + CENTRE),
            ("04", ("signal",), SOUTH_EAST + CENTRE),
        ),
    ),
    Department(
        "DEMO-NETOPS",
        "网络运维 Network operations",
        8.0,
        (
            ("01", ("broadband",), NORTH),
            ("02", ("broadband",), CENTRE),
            ("03", ("broadband",), SOUTH_EAST),
            ("04", ("broadband", "signal"), ()),
        ),
    ),
    Department(
        "DEMO-FIELD",
        "装维服务 Field installation and repair",
        16.0,
        (
            ("01", ("installation", "signal", "broadband"), NORTH),
            ("02", ("installation", "signal", "broadband"), CENTRE),
            ("03", ("installation", "signal", "broadband"), SOUTH_EAST),
            ("04", ("installation",), ()),
            ("05", ("installation", "signal"), ()),
        ),
    ),
    Department(
        "DEMO-BILLING",
        "营业厅与计费 Billing and business hall",
        8.0,
        (
            ("01", ("billing", "package_change"), ()),
            ("02", ("billing",), ()),
            ("03", ("package_change",), ()),
        ),
    ),
    Department(
        "DEMO-SUPERVISION",
        "监察组 Supervision group",
        8.0,
        (("01", (), ()), ("02", (), ())),
    ),
)
DEPARTMENT_CODES = tuple(d.code for d in DEPARTMENTS)

# routing rules, tried by position: (position, conditions, department, why)
RULES: tuple[tuple[int, dict[str, list[str]], str, str], ...] = (
    (110, {"categories": ["broadband"]}, "DEMO-NETOPS", "宽带故障由网络运维处理"),
    (
        120,
        {"categories": ["signal"], "regions": ["Changping", "Daxing", "Tongzhou"]},
        "DEMO-FIELD",
        "远郊区县的信号问题多为入户线路，派装维",
    ),
    (130, {"categories": ["signal", "set_top_box"]}, "DEMO-TECH", "信号与机顶盒由技术支持处理"),
    (140, {"categories": ["installation"]}, "DEMO-FIELD", "安装移机由装维服务处理"),
    (150, {"categories": ["billing", "package_change"]}, "DEMO-BILLING", "账务与套餐由营业厅处理"),
    (160, {"categories": ["service_attitude"]}, "DEMO-SUPERVISION", "服务态度投诉由监察组核查"),
    (170, {"categories": ["other"]}, "DEMO-TECH", "其他问题先由技术支持研判"),
)
# where the agent sends a case when they name the department themselves
DEPARTMENT_FOR = {
    "broadband": "DEMO-NETOPS",
    "signal": "DEMO-TECH",
    "set_top_box": "DEMO-TECH",
    "installation": "DEMO-FIELD",
    "billing": "DEMO-BILLING",
    "package_change": "DEMO-BILLING",
    "service_attitude": "DEMO-SUPERVISION",
    "other": "DEMO-TECH",
}

# Beijing districts, weighted by how many subscribers live there
REGIONS = (
    ("Haidian", 18),
    ("Chaoyang", 20),
    ("Dongcheng", 7),
    ("Xicheng", 8),
    ("Fengtai", 12),
    ("Shijingshan", 5),
    ("Tongzhou", 11),
    ("Changping", 11),
    ("Daxing", 8),
)
STREETS = (
    "中关村大街",
    "学院路",
    "建国路",
    "望京街",
    "丰台北路",
    "新华大街",
    "回龙观西大街",
    "黄村东大街",
)

CHANNELS = (("hotline", 65), ("online", 25), ("email", 10))
COMPLAINT_SHARE = 0.35
CATEGORIES = {
    "consultation": (
        ("broadband", 18),
        ("signal", 8),
        ("set_top_box", 12),
        ("billing", 20),
        ("package_change", 22),
        ("installation", 12),
        ("other", 8),
    ),
    "complaint": (
        ("broadband", 30),
        ("signal", 16),
        ("set_top_box", 12),
        ("billing", 14),
        ("package_change", 4),
        ("installation", 10),
        ("service_attitude", 12),
        ("other", 2),
    ),
}
PRIORITIES = (("low", 3), ("normal", 85), ("high", 10), ("urgent", 2))

# what customers say (no personal data in any of it)
TEXTS = {
    "broadband": (
        "宽带晚上经常掉线",
        "网速远低于套餐速率",
        "光猫红灯闪烁无法上网",
        "WiFi 信号弱，卧室连不上",
    ),
    "signal": ("部分频道出现马赛克", "高清频道提示无信号", "画面卡顿有雪花"),
    "set_top_box": ("机顶盒无法开机", "遥控器失灵，机顶盒不响应", "机顶盒提示智能卡错误"),
    "billing": ("本月账单金额有误", "自动扣费重复扣款", "想开具上季度的发票"),
    "package_change": ("想升级到千兆宽带套餐", "咨询融合套餐资费", "取消增值频道包"),
    "installation": ("新房申请安装有线电视", "搬家需要移机，预约上门时间", "入户线路老化需要更换"),
    "service_attitude": (
        "装维人员上门迟到且态度差",
        "营业厅工作人员服务不耐烦",
        "热线等待时间过长",
    ),
    "other": ("咨询营业厅营业时间", "反映小区公告栏信息有误", "建议增加少儿频道"),
}
OUTAGE_TEXT = ("整栋楼宽带都断了", "小区宽带全部无法上网", "光猫 LOS 灯红色，邻居也断网")
FIRST_CONTACT_ANSWERS = {
    "broadband": "已远程重启光猫并恢复连接",
    "signal": "指导客户重新搜台后恢复",
    "set_top_box": "指导客户重置机顶盒后恢复",
    "billing": "已核对账单并向客户解释",
    "package_change": "已介绍套餐资费并为客户办理",
    "installation": "已解答安装流程并预约",
    "service_attitude": "已向客户致歉并记录",
    "other": "已当场解答",
}
TRANSFER_REASONS = {
    "broadband": "远程无法恢复，需网络运维排查",
    "signal": "需技术人员检测信号",
    "set_top_box": "需更换或检测机顶盒",
    "billing": "需营业厅核实扣费记录",
    "package_change": "套餐变更需营业厅办理",
    "installation": "需上门施工",
    "service_attitude": "服务投诉，转监察组核查",
    "other": "需专业部门研判",
}
RESOLUTION_CODES = {
    "DEMO-TECH": ("device_replaced", "remote_fix", "rescanned_channels"),
    "DEMO-NETOPS": ("line_repaired", "port_reset", "outage_restored"),
    "DEMO-FIELD": ("onsite_repair", "installed", "cable_replaced"),
    "DEMO-BILLING": ("bill_adjusted", "refunded", "package_changed"),
    "DEMO-SUPERVISION": ("apology_and_coaching", "complaint_upheld", "complaint_explained"),
    "DEMO-HOTLINE": ("answered",),
}
FOLLOWUP_COMMENTS = {
    5: "处理很及时，满意",
    4: "解决了，稍慢一点",
    3: "还行",
    2: "等了很久",
    1: "很不满意",
}

COURSES = (
    # code, title, mandatory for, validity (months), pass mark
    ("DEMO-ETIQUETTE", "服务规范与礼仪 Service etiquette", ("agent",), 12, 80.0),
    (
        "DEMO-PRIVACY",
        "客户信息保密 Customer data confidentiality",
        ("agent", "department_staff", "department_head"),
        12,
        85.0,
    ),
    ("DEMO-FTTH", "FTTH 故障排查 Fibre troubleshooting", ("department_staff",), 24, 70.0),
)
INCENTIVE_RULES = (
    (
        "DEMO-SERVICE-STAR",
        "服务之星 Service star",
        "Agents whose callers are delighted and who solve most cases on the first call",
        (
            {"figure": "satisfaction_mean", "op": ">=", "value": 4.5, "min_events": 5},
            {"figure": "first_contact_rate", "op": ">=", "value": 60, "min_events": 5},
        ),
    ),
    (
        "DEMO-ON-TIME",
        "准时之星 On-time handler",
        "Department staff who keep the time limits of the cases assigned to them",
        (
            {"figure": "time_limit_compliance", "op": ">=", "value": 95, "min_events": 5},
            {"figure": "cases_handled", "op": ">=", "value": 5},
        ),
    ),
)
CAMPAIGN_QUESTIONS = (
    {"key": "overall", "text": "您对我们本季度的服务总体满意吗？(1-5)", "type": "scale"},
    {"key": "recommend", "text": "您愿意向亲友推荐我们的宽带吗？", "type": "yes_no"},
    {
        "key": "most_used",
        "text": "您最常用的业务是？",
        "type": "choice",
        "choices": ["有线电视", "宽带", "融合套餐"],
    },
    {"key": "suggestion", "text": "您对我们有什么建议？", "type": "text"},
)
SUGGESTIONS = (
    ("希望晚上高峰期网速更稳定", "network_quality", "DEMO-NETOPS"),
    ("装维师傅能否提前电话确认上门时间", "field_visits", "DEMO-FIELD"),
    ("账单能否在 App 里查看明细", "billing_clarity", "DEMO-BILLING"),
    ("希望增加更多高清频道", "channel_lineup", "DEMO-TECH"),
)
IMPROVEMENTS = (
    (
        "宽带晚间高峰掉线投诉集中（季度分析）",
        "DEMO-NETOPS",
        "扩容晚高峰汇聚带宽，对投诉集中的小区逐一巡检光路",
        "quarterly_analysis",
    ),
    (
        "装维上门迟到被投诉（质检发现）",
        "DEMO-FIELD",
        "上门前一小时电话确认，迟到须提前告知客户",
        "inspection",
    ),
    (
        "客户反映账单明细看不懂（回访建议）",
        "DEMO-BILLING",
        "账单增加费用明细说明，App 上线账单查询",
        "feedback",
    ),
)


def staff_directory() -> list[dict[str, object]]:
    """Everyone the demo operator employs, as routing's `POST /staff` takes them.

    Fixed (not drawn from the demo's seed), so every demo set shares one organisation.
    """
    rng = random.Random("demo-staff")
    people: list[dict[str, object]] = []

    def add(
        staff_id: str,
        role: str,
        department: str | None,
        skills: tuple[str, ...] = (),
        regions: tuple[str, ...] = (),
    ) -> None:
        people.append(
            {
                "staff_id": staff_id,
                "display_name": fictitious_name(rng, staff=True),
                "role": role,
                "department": department,
                "skills": list(skills),
                "regions": list(regions),
            }
        )

    for d in DEPARTMENTS:
        add(head_of(d.code), "department_head", d.code)
    for i in range(1, AGENTS + 1):
        add(agent_id(i), "agent", "DEMO-HOTLINE")
    for d in DEPARTMENTS:
        for suffix, skills, regions in d.members:
            add(f"{d.code.lower()}-{suffix}", "department_staff", d.code, skills, regions)
    add(SUPERVISOR, "supervisor", "DEMO-SUPERVISION")
    return people


def head_of(department: str) -> str:
    return f"{department.lower()}-head"


def agent_id(i: int) -> str:
    return f"demo-agent-{i:02d}"
