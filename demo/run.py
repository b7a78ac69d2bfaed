"""`cs demo`: loads a history — the quarter before and the current one up to now — phase by
phase through the services' public APIs and the portal's event, with a progress bar per phase
and a summary of what is where at the end.

Every step is a request another system would make: the operator's organisation (departments,
staff, routing rules) by a supervisor; customers by the CRM. The cases' steps happened over
the two quarters (demo/quarter.py plans when), so they come as other systems report
history, each dated with `occurred_at` and naming the person who did it (`actor_id`): the
call-centre system reports what agents did on the hotline and at their desks (cases, calls,
replies, transfers, resolutions, follow-up calls), the mail gateway the messages it took in,
the online portal its requests (`case.requested`, dated by its envelope), the departments'
work-order system their acceptance, progress and handling. Campaign, inspections and training
are done now by the people whose job they are. What the services do on their own — routing a
transfer, resolving a handled case, scheduling the follow-up call, reopening, breaches — the
demo waits for, within bounds; they take their times from the steps that caused them.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from datetime import time as dtime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from demo import data
from demo.client import Api, ApiError, Portal, Who
from demo.quarter import (
    TZ,
    Calendar,
    Call,
    CasePlan,
    Plan,
    Quarter,
    account_tag,
    build,
    first_account,
)
from shared import clock
from shared.auth import mint_token
from shared.config import SERVICES, Settings

K = TypeVar("K", bound=Hashable)
SUPERVISOR: Who = (data.SUPERVISOR, "supervisor")
TRAINER: Who = (data.TRAINER, "trainer")
CRM: Who = ("demo-crm", "system")
CTI: Who = (data.CTI, "system")  # also reports what agents do at their desks
MAIL: Who = (data.MAIL_GATEWAY, "system")
WORK_ORDERS: Who = (data.WORK_ORDERS, "system")  # the departments' work-order system
LINK_TOKEN_TTL = timedelta(hours=8)  # the token in the links the demo prints
WORK_DEPARTMENTS = tuple(d.code for d in data.DEPARTMENTS if d.members)
ROLE_OF = {str(p["staff_id"]): str(p["role"]) for p in data.staff_directory()}


def current_quarter(now: datetime | None = None) -> str:
    return str(Quarter.of(now or clock.now()))


def dated(at: datetime, who: str, **body: Any) -> dict[str, Any]:
    """A request body of a step a reporting system reports: when it happened and who did it."""
    return dict(body, occurred_at=at.isoformat(), actor_id=who)


def run(args: argparse.Namespace, console: Console | None = None) -> int:
    """`cs demo` with parsed arguments; returns the exit status."""
    console = console or Console(highlight=False)
    settings = Settings.from_env()
    urls = {s: getattr(args, f"{s}_url") for s in SERVICES}
    api = Api(urls, settings.jwt_secret)
    down = [p for p in (api.problem(s) for s in SERVICES) if p]
    if down:
        for problem in down:
            console.print(f"[red]cs demo:[/] {problem}")
        console.print("Start the system first (./dev up) and wait until it answers.")
        return 1
    try:
        quarter = Quarter.parse(args.quarter or current_quarter())
    except ValueError as e:
        console.print(f"[red]cs demo:[/] {e}")
        return 2
    if args.cases < 1:
        console.print("[red]cs demo:[/] --cases must be at least 1")
        return 2
    demo = Demo(api, settings, console, quarter, args)
    return demo.run()


class Demo:
    def __init__(
        self,
        api: Api,
        settings: Settings,
        console: Console,
        quarter: Quarter,
        args: argparse.Namespace,
    ) -> None:
        self.api = api
        self.settings = settings
        self.console = console
        self.quarter = quarter
        self.seed: int = args.seed
        self.cases: int = args.cases
        self.again: bool = args.again
        self.workers = max(1, args.workers)
        self.patience: float = args.patience
        self.counts: Counter[str] = Counter()
        self.errors: list[str] = []
        self.notes: list[str] = []
        self._lock = threading.Lock()
        self.case_ids: dict[int, str] = {}  # plan's case number -> intake's case id
        self.resolved: set[str] = set()  # case ids resolved during this run
        self.progress = Progress(
            TextColumn("{task.description:<38}"),
            BarColumn(bar_width=32),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="demo")

    # --- bookkeeping ------------------------------------------------------------------------

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n

    def error(self, where: str, e: Exception) -> None:
        with self._lock:
            self.errors.append(f"{where}: {e}")

    def note(self, text: str) -> None:
        with self._lock:
            self.notes.append(text)
        self.progress.console.print(f"[yellow]note:[/] {text}")

    def _guarded(self, label: str, task: TaskID, work: Callable[..., None], *args: Any) -> None:
        try:
            work(*args)
        except ApiError as e:
            self.error(label, e)
        finally:
            self.progress.advance(task)

    def parallel(self, label: str, items: Iterable[Any], work: Callable[[Any], None]) -> None:
        """`work(item)` for every item on the pool, with a bar."""
        items = list(items)
        task = self.progress.add_task(label, total=len(items))
        futures = [self.pool.submit(self._guarded, label, task, work, item) for item in items]
        for f in futures:
            f.result()

    def discover_and_work(
        self,
        label: str,
        expected: Iterable[K],
        discover: Callable[[set[K]], Mapping[K, Any]],
        work: Callable[[K, Any], None],
        waiting_for: str,
    ) -> int:
        """Polls `discover` for the things a service makes on its own and hands each, once,
        to `work` on the pool; gives up on the rest after `patience` seconds without news."""
        pending = set(expected)
        task = self.progress.add_task(label, total=len(pending))
        futures: list[Future[None]] = []
        found, last_news = 0, time.monotonic()
        while pending:
            try:
                seen = discover(pending)
            except ApiError as e:
                self.error(label, e)
                seen = {}
            new = [k for k in pending if k in seen]
            for k in new:
                pending.discard(k)
                futures.append(self.pool.submit(self._guarded, label, task, work, k, seen[k]))
            found += len(new)
            if new:
                last_news = time.monotonic()
            elif time.monotonic() - last_news > self.patience:
                self.note(
                    f"{len(pending)} of {found + len(pending)} did not appear within"
                    f" {self.patience:.0f} s: {waiting_for}"
                )
                self.progress.update(task, total=found)
                break
            if pending:
                time.sleep(0.7)
        for f in futures:
            f.result()
        return found

    # --- the run -------------------------------------------------------------------------------

    def run(self) -> int:
        started = time.monotonic()
        try:
            with self.progress:
                plan = self.load(clock.now())
        except ApiError as e:  # a step everything after it needs did not work
            self.console.print(f"[red]cs demo: stopped:[/] {e}")
            return 1
        except ValueError as e:
            self.console.print(f"[red]cs demo:[/] {e}")
            return 2
        except KeyboardInterrupt:
            self.console.print("cs demo: interrupted; `cs demo --again` loads a fresh set")
            return 130
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)
        if plan is None:
            return 0
        self.summary(plan, time.monotonic() - started)
        if self.errors:
            self.console.print(f"[red]{len(self.errors)} request(s) failed[/], the first ones:")
            for e in self.errors[:8]:
                self.console.print(f"  {e}")
            return 1
        return 0

    def load(self, now: datetime) -> Plan | None:
        """Every phase in turn; None when this quarter and seed are there already."""
        set_no = self.choose_set()
        if set_no is None:
            return None
        calendar = self.calendar()
        plan = build(self.quarter, self.seed, self.cases, now, calendar, set_no=set_no)
        self.organisation()
        self.load_customers(plan)
        self.front_line(plan)
        self.departments(plan)
        self.followups(plan)
        self.reopenings(plan)
        self.campaign(plan)
        self.inspections(plan)
        self.improvements(plan)
        self.training(plan, calendar)
        self.incentives(plan)
        return plan

    # --- is it there already? ------------------------------------------------------------------

    def _customer_exists(self, account_no: str) -> bool:
        found = self.api.get("intake", "/customers", CRM, account_no=account_no)
        return bool(found["items"])

    def choose_set(self) -> int | None:
        """The number of the set to load, or None when this quarter and seed are loaded."""
        task = self.progress.add_task("looking for an earlier demo load", total=1)
        if not self._customer_exists(first_account(self.quarter, self.seed, 1)):
            self.progress.advance(task)
            return 1
        loaded = 1
        while self._customer_exists(first_account(self.quarter, self.seed, loaded + 1)):
            loaded += 1
        self.progress.advance(task)
        if self.again:
            return loaded + 1
        self.progress.stop()
        self.already_loaded(loaded)
        return None

    def already_loaded(self, sets: int) -> None:
        departments = self.api.get("routing", "/departments", SUPERVISOR)["items"]
        ours = [d for d in departments if d["code"] in data.DEPARTMENT_CODES]
        staff = self.api.get("routing", "/staff", SUPERVISOR)["items"]
        campaigns = self.api.get("followup", "/campaigns", SUPERVISOR, period=str(self.quarter))
        names = [c for c in campaigns["items"] if self._tag(1).rstrip("-") in c["name"]]
        tags = ", ".join(f"{self._tag(n)}…" for n in range(1, sets + 1))
        self.console.print(
            f"[bold]already loaded:[/] {self.quarter}, seed {self.seed} — customer accounts {tags};"
            f" {len(ours)} demo departments, {sum(s['staff_id'] in ROLE_OF for s in staff)} demo"
            f" staff"
            + (
                f", campaign “{names[0]['name']}” ({names[0]['responses']} responses)"
                if names
                else "; no campaign of this set (was a load interrupted?)"
            )
            + "."
        )
        self.console.print(
            "Nothing added. `cs demo --again` loads another set; another --seed or --quarter"
            " loads a different one."
        )
        self.console.print("Look at it (the links carry a supervisor's token for 8 hours):")
        self.print_links(self.browser_links())

    def _tag(self, set_no: int) -> str:
        return account_tag(self.quarter, self.seed, set_no)

    # --- the organisation ----------------------------------------------------------------------

    def calendar(self) -> Calendar:
        """Routing's working-day calendar from the previous quarter's year to the next year."""
        exceptions: dict[date, bool] = {}
        for year in range(self.quarter.previous().year, self.quarter.year + 2):
            shown = self.api.get("routing", "/calendar", SUPERVISOR, year=year)
            if year == self.quarter.year:
                self.counts["calendar_official"] = int(bool(shown["official"]))
            for d in shown["exceptions"]:
                exceptions[date.fromisoformat(d["day"])] = bool(d["working"])
        first, end = self.quarter.previous().first_day, self.quarter.end.date()
        q_days = [d for d in exceptions if first <= d < end]
        self.counts["calendar_exceptions"] = len(q_days)
        return Calendar(exceptions, self.settings.close_of_business)

    def _create(self, what: str, service: str, path: str, who: Who, body: Any) -> None:
        try:
            self.api.post(service, path, who, body)
            self.count(f"{what}_created")
        except ApiError as e:
            if e.status != 409:
                raise
            self.count(f"{what}_existing")

    def organisation(self) -> None:
        staff = data.staff_directory()
        self.parallel(
            "departments",
            data.DEPARTMENTS,
            lambda d: self._create(
                "departments",
                "routing",
                "/departments",
                SUPERVISOR,
                {
                    "code": d.code,
                    "name": d.name,
                    "head_id": data.head_of(d.code),
                    "ola_hours": d.ola_hours,
                },
            ),
        )
        self.parallel(
            "staff (heads, agents, departments)",
            staff,
            lambda s: self._create("staff", "routing", "/staff", SUPERVISOR, s),
        )
        existing = self.api.get("routing", "/routing-rules", SUPERVISOR)["items"]
        have = {(r["department"], tuple(r["categories"]), tuple(r["regions"])) for r in existing}

        def rule(r: tuple[int, dict[str, list[str]], str, str]) -> None:
            position, conditions, department, why = r
            key = (
                department,
                tuple(conditions.get("categories", [])),
                tuple(conditions.get("regions", [])),
            )
            if key in have:
                self.count("rules_existing")
                return
            body = dict(conditions, position=position, department=department, reason=why)
            self.api.post("routing", "/routing-rules", SUPERVISOR, body)
            self.count("rules_created")

        self.parallel("routing rules", data.RULES, rule)
        self.parallel(
            "courses",
            data.COURSES,
            lambda c: self._create(
                "courses",
                "training",
                "/courses",
                TRAINER,
                {
                    "code": c[0],
                    "title": c[1],
                    "mandatory_for": list(c[2]),
                    "validity_months": c[3],
                    "pass_mark": c[4],
                },
            ),
        )
        self.parallel(
            "incentive rules",
            data.INCENTIVE_RULES,
            lambda r: self._create(
                "incentive_rules",
                "training",
                "/incentive-rules",
                SUPERVISOR,
                {"code": r[0], "name": r[1], "description": r[2], "conditions": list(r[3])},
            ),
        )

    # --- customers -----------------------------------------------------------------------------

    def load_customers(self, plan: Plan) -> None:
        rng = random.Random(f"{plan.tag}/consent")

        def create(c: Any) -> None:
            body = {
                "account_no": c.account_no,
                "name": c.name,
                "phones": list(c.phones),
                "id_number": c.id_number,
                "email": c.email,
                "address": {"region": c.region, "line": c.line},
            }
            try:
                created = self.api.post("intake", "/customers", CRM, body)
            except ApiError as e:
                if e.status != 409:
                    raise
                created = self.api.get("intake", "/customers", CRM, account_no=c.account_no)
                created = created["items"][0]
            self.count("customers")
            if rng.random() < 0.1:
                self.api.post(
                    "intake",
                    f"/customers/{created['id']}/consents",
                    CRM,
                    {
                        "purpose": "marketing_sms",
                        "granted": rng.random() < 0.6,
                        "channel": "hotline",
                    },
                )
                self.count("consents")

        self.parallel("customers (fictitious)", plan.customers, create)

    # --- the front line ------------------------------------------------------------------------

    def _resolved(self, case_id: str) -> None:
        with self._lock:
            self.resolved.add(case_id)

    def front_line(self, plan: Plan) -> None:
        online = [c for c in plan.cases if c.channel == "online"]
        direct = [c for c in plan.cases if c.channel != "online"]
        task = self.progress.add_task("online requests (portal events)", total=len(online))
        if online:
            portal = Portal(self.settings, data.PORTAL)
            try:
                for c in online:
                    portal.request_case(
                        f"{plan.tag}{c.number:05d}",
                        {
                            "channel": "online",
                            "kind": c.kind,
                            "category": c.category,
                            "region": c.customer.region,
                            "customer_ref": c.customer.account_no,
                            "content": c.content,
                            "priority": c.priority,
                            "received_at": c.received_at,
                        },
                        at=c.opened_at,
                    )
                    self.progress.advance(task)
                    self.count("online")
            finally:
                portal.close()

        def open_and_act(c: CasePlan) -> None:
            case_id = self.open_hotline(c) if c.channel == "hotline" else self.open_email(c, plan)
            with self._lock:
                self.case_ids[c.number] = case_id
            self.act(c, case_id, plan)

        self.parallel("hotline and e-mail cases", direct, open_and_act)
        if not online:
            return
        day_from = min(c.received_at for c in online).astimezone(TZ).date()
        day_to = max(c.received_at for c in online).astimezone(TZ).date()
        by_key = {(c.customer.account_no, c.received_at): c for c in online}

        def discover(pending: set[tuple[str, datetime]]) -> dict[tuple[str, datetime], str]:
            found: dict[tuple[str, datetime], str] = {}
            for case in self._pages(
                "intake",
                "/cases",
                channel="online",
                received_from=day_from.isoformat(),
                received_to=day_to.isoformat(),
            ):
                key = (case["customer_ref"], datetime.fromisoformat(case["received_at"]))
                if key in pending:
                    found[key] = case["id"]
            return found

        def act(key: tuple[str, datetime], case_id: str) -> None:
            c = by_key[key]
            with self._lock:
                self.case_ids[c.number] = case_id
            self.act(c, case_id, plan)

        self.discover_and_work(
            "online cases opened by intake",
            by_key,
            discover,
            act,
            "intake did not open them from case.requested (is `cs consume intake` running?)",
        )

    def _pages(self, service: str, path: str, **query: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            got = self.api.get(service, path, SUPERVISOR, page=page, per_page=500, **query)
            items.extend(got["items"])
            if page * got["per_page"] >= got["total"] or not got["items"]:
                return items
            page += 1

    def open_hotline(self, c: CasePlan) -> str:
        """The agent records the case during the call; the call-centre system reports it, and
        the call."""
        case = self.api.post(
            "intake",
            "/cases",
            CTI,
            dated(
                c.opened_at,
                c.agent,
                kind=c.kind,
                channel="hotline",
                category=c.category,
                region=c.customer.region,
                customer_ref=c.customer.account_no,
                content=c.content,
                identity_verified=True,
                identity_method=c.identity_method,
                priority=c.priority,
                received_at=c.received_at.isoformat(),
            ),
        )
        self.count("hotline")
        # its number is matched to the customer
        assert c.call_ended_at is not None
        self.api.post(
            "intake",
            "/channels/hotline/calls",
            CTI,
            {
                "caller_number": c.customer.phones[0],
                "agent_id": c.agent,
                "started_at": c.received_at.isoformat(),
                "ended_at": c.call_ended_at.isoformat(),
                "direction": "in",
                "case_id": case["id"],
            },
        )
        self.count("calls")
        return str(case["id"])

    def open_email(self, c: CasePlan, plan: Plan) -> str:
        msg = EmailMessage()
        msg["From"] = str(c.customer.email)
        msg["To"] = f"kefu@{data.EMAIL_DOMAIN}"
        msg["Subject"] = ("投诉：" if c.kind == "complaint" else "咨询：") + c.content
        msg["Date"] = format_datetime(c.received_at)
        msg["Message-ID"] = f"<{plan.tag.lower()}{c.number:05d}@{data.EMAIL_DOMAIN}>"
        msg.set_content(f"您好，\n\n{c.content}，请尽快处理。\n\n谢谢")
        answer = self.api.post(
            "intake",
            "/channels/email",
            MAIL,
            raw=msg.as_bytes(),
            content_type="message/rfc822",
            query={"occurred_at": c.opened_at.isoformat()},
        )
        self.count("email")
        return str(answer["id"])

    def act(self, c: CasePlan, case_id: str, plan: Plan) -> None:
        """What the agent did with the case: solved it at once, transferred it, or answered
        later; each step reported with its time, the ones still to come left."""
        path = f"/cases/{case_id}"
        if c.reply_at is not None and plan.done(c.reply_at):
            text = "您的邮件已收到，我们会在时限内答复。"
            self.api.post(
                "intake",
                f"{path}/interactions",
                CTI,
                dated(c.reply_at, c.agent, type="reply", text=text),
            )
        if not plan.done(c.acted_at):
            self.count("open_now")
            return
        if c.route == "first_contact":
            answer = data.FIRST_CONTACT_ANSWERS[c.category]
            body = dated(c.acted_at, c.agent, resolution=answer, first_contact=True)
            self.api.post("intake", f"{path}/resolve", CTI, body)
            self.count("first_contact")
            self._resolved(case_id)
        elif c.route == "transfer":
            assert c.department is not None
            named = c.department.code if c.department.named else None
            reason = data.TRANSFER_REASONS[c.category]
            body = dated(c.acted_at, c.agent, reason=reason, requested_department=named)
            self.api.post("intake", f"{path}/transfer", CTI, body)
            self.count("transferred")
        else:
            note = "已受理，核实后回复客户"
            body = dated(c.acted_at, c.agent, type="note", text=note)
            self.api.post("intake", f"{path}/interactions", CTI, body)
            self.count("later")
            if not plan.done(c.resolved_at):
                self.count("open_now")
                return
            answer = data.FIRST_CONTACT_ANSWERS[c.category]
            body = dated(c.resolved_at, c.agent, resolution=answer, first_contact=False)
            self.api.post("intake", f"{path}/resolve", CTI, body)
            self._resolved(case_id)

    # --- the departments -----------------------------------------------------------------------

    def departments(self, plan: Plan) -> None:
        transferred = {
            self.case_ids[c.number]: c
            for c in plan.cases
            if c.route == "transfer" and plan.done(c.acted_at) and c.number in self.case_ids
        }
        quiet = {"polls": 0}

        def discover(pending: set[str]) -> dict[str, dict[str, Any]]:
            found: dict[str, dict[str, Any]] = {}
            for department in WORK_DEPARTMENTS:
                items = self.api.get(
                    "routing",
                    "/work-items",
                    (data.head_of(department), "department_head"),
                    department=department,
                    limit=1000,
                )["items"]
                found.update({i["case_id"]: i for i in items if i["case_id"] in pending})
            quiet["polls"] = 0 if found else quiet["polls"] + 1
            if not found and quiet["polls"] >= 5 and len(pending) <= 100:
                # another rule may have sent some elsewhere: ask for each case directly
                for case_id in pending:
                    items = self.api.get("routing", "/work-items", SUPERVISOR, case_id=case_id)
                    if items["items"]:
                        found[case_id] = items["items"][0]
            return found

        def work(case_id: str, item: dict[str, Any]) -> None:
            c = transferred[case_id]
            d = c.department
            assert d is not None
            if item["department"] not in WORK_DEPARTMENTS:
                self.count("elsewhere")  # a department the demo's staff do not work in
                return
            self.count(f"routed_{item['department']}")
            if not plan.done(d.accepted_at):
                self.count("in_department")
                return
            # the assignee routing chose; an item nobody qualified for is taken by the head
            member = item["assignee_id"] or data.head_of(item["department"])
            path = f"/work-items/{item['id']}"
            self.api.post("routing", f"{path}/accept", WORK_ORDERS, dated(d.accepted_at, member))
            if d.progress_at is not None and d.eta is not None and plan.done(d.progress_at):
                note = "已派单，工程师排期处理中"
                body = dated(d.progress_at, member, note=note, eta=d.eta.isoformat())
                self.api.post("routing", f"{path}/progress", WORK_ORDERS, body)
                self.count("eta")
            if not plan.done(d.handled_at):
                self.count("in_department")
                return
            codes = data.RESOLUTION_CODES.get(item["department"], ("handled",))
            code = "outage_restored" if c.outage else codes[c.number % len(codes)]
            body = dated(d.handled_at, member, resolution_code=code)
            self.api.post("routing", f"{path}/handled", WORK_ORDERS, body)
            self.count("handled")
            self._resolved(case_id)  # intake resolves it on case.handled, at that time

        self.discover_and_work(
            "department work (accept, ETA, handled)",
            transferred,
            discover,
            work,
            "routing did not put the transfers in a demo department's queue"
            " (is `cs consume routing` running? do other routing rules come first?)",
        )

    # --- follow-up calls -------------------------------------------------------------------------

    def _due_followups(self, pending: set[str]) -> dict[str, dict[str, Any]]:
        found = {}
        for task in self._pages("followup", "/followups", state="due"):
            if task["case_id"] in pending:
                found[task["case_id"]] = task
        return found

    def _call(self, plan: Plan, c: CasePlan, task: dict[str, Any], calls: tuple[Call, ...]) -> None:
        """The follow-up call attempts made by now, reported by the call-centre system: by the
        agent followup chose, else by another agent than the one who resolved the case (the
        follow-up is independent of the work it checks)."""
        caller = task["agent_id"] or next(
            a
            for a in (data.agent_id(1 + (c.number + k) % data.AGENTS) for k in range(2))
            if a != task["resolved_by"]
        )
        made = [a for a in calls if plan.done(a.at)]
        for attempt in made:
            body: dict[str, Any] = {"result": attempt.result}
            if attempt.result == "reached":
                body.update(
                    solved=attempt.solved,
                    satisfaction=attempt.satisfaction,
                    comment=attempt.comment,
                )
            try:
                ended = self.api.post(
                    "followup",
                    f"/followups/{task['id']}/attempts",
                    CTI,
                    dated(attempt.at, caller, **body),
                )
            except ApiError as e:
                if e.status == 409:  # the task ended earlier (fewer attempts configured)
                    break
                raise
            self.count("call_attempts")
            if attempt.result == "reached":
                self.count("reached")
                self.count("reopened" if attempt.solved is False else "confirmed")
            if ended["state"] == "unreachable":
                self.count("unreachable")
        if len(made) < len(calls) or not calls:
            self.count("calls_pending")

    def followups(self, plan: Plan) -> None:
        resolved = {
            self.case_ids[c.number]: c
            for c in plan.cases
            if c.number in self.case_ids and self.case_ids[c.number] in self.resolved
        }
        self.discover_and_work(
            "follow-up calls",
            resolved,
            self._due_followups,
            lambda case_id, task: self._call(
                plan, resolved[case_id], task, resolved[case_id].calls
            ),
            "no follow-up call was scheduled for them"
            " (are `cs consume intake` and `cs consume followup` running?)",
        )

    def reopenings(self, plan: Plan) -> None:
        """Not solved after all: intake reopens the case; the agent solves it again, and the
        customer is called again."""
        again = {
            self.case_ids[c.number]: c
            for c in plan.cases
            if c.reopening is not None
            and plan.done(c.reopening.reopened_at)
            and self.case_ids.get(c.number) in self.resolved
        }
        solved: set[str] = set()

        def discover(pending: set[str]) -> dict[str, bool]:
            reopened = {}
            for case_id in pending:
                if self.api.get("intake", f"/cases/{case_id}", SUPERVISOR)["state"] == "reopened":
                    reopened[case_id] = True
            return reopened

        def resolve(case_id: str, _: bool) -> None:
            c = again[case_id]
            assert c.reopening is not None
            if not plan.done(c.reopening.resolved_at):
                self.count("open_now")
                return
            body = dated(
                c.reopening.resolved_at,
                c.agent,
                resolution="回访发现未解决，二次处理后恢复",
                first_contact=False,
            )
            self.api.post("intake", f"/cases/{case_id}/resolve", CTI, body)
            self.count("resolved_again")
            with self._lock:
                solved.add(case_id)

        self.discover_and_work(
            "reopened cases solved again",
            again,
            discover,
            resolve,
            "intake did not reopen them after the follow-up (is `cs consume intake` running?)",
        )

        def call(case_id: str, task: dict[str, Any]) -> None:
            c = again[case_id]
            assert c.reopening is not None
            self._call(plan, c, task, c.reopening.calls)

        self.discover_and_work(
            "follow-up calls after the second solution",
            solved,
            self._due_followups,
            call,
            "no follow-up call was scheduled for them (is `cs consume followup` running?)",
        )

    # --- supervision ---------------------------------------------------------------------------

    def campaign(self, plan: Plan) -> None:
        task = self.progress.add_task("campaign (created, drawn)", total=2)
        campaign = self.api.post(
            "followup",
            "/campaigns",
            SUPERVISOR,
            {
                "name": f"{self.quarter} 季度服务满意度回访 · {plan.tag.rstrip('-')}",
                "period": str(self.quarter),
                "questions": list(data.CAMPAIGN_QUESTIONS),
                "target": {"size": max(5, min(200, len(plan.customers) // 10))},
            },
        )
        self.progress.advance(task)
        drawn = self.api.post(
            "followup", f"/campaigns/{campaign['id']}/draw", SUPERVISOR, {"seed": self.seed}
        )["items"]
        self.progress.advance(task)
        self.count("campaign_drawn", len(drawn))
        rng = random.Random(f"{plan.tag}/campaign")
        answering = [t for t in drawn if t["state"] == "due" and rng.random() < 0.75]

        def respond(t: dict[str, Any]) -> None:
            r = random.Random(t["id"])
            answers: list[dict[str, Any]] = [
                {"question": "overall", "value": r.choices((5, 4, 3, 2), (45, 35, 15, 5))[0]},
                {"question": "recommend", "value": r.random() < 0.8},
                {"question": "most_used", "value": r.choice(("有线电视", "宽带", "融合套餐"))},
            ]
            if r.random() < 0.35:
                text, topic, department = r.choice(data.SUGGESTIONS)
                answers.append(
                    {
                        "question": "suggestion",
                        "value": text,
                        "topic": topic,
                        "department": department,
                    }
                )
                self.count("suggestions")
            caller: Who = (t["agent_id"] or data.agent_id(1 + r.randrange(data.AGENTS)), "agent")
            self.api.post(
                "followup",
                f"/campaigns/{campaign['id']}/responses",
                caller,
                {"task_id": t["id"], "answers": answers},
            )
            self.count("campaign_responses")

        self.parallel("campaign answers", answering, respond)

    def inspections(self, plan: Plan) -> None:
        """Each quarter's quality inspections: cases resolved in it, drawn and scored."""
        drawn: list[dict[str, Any]] = []
        for quarter in (self.quarter.previous(), self.quarter):
            n = sum(quarter.start <= c.resolved_at < quarter.end for c in plan.cases)
            for rule, size in (
                ("random", max(3, min(40, n // 75))),
                ("complaints", max(2, min(20, n // 150))),
                ("breached", max(1, min(10, n // 300))),
            ):
                try:
                    answer = self.api.post(
                        "followup",
                        "/inspections/draw",
                        SUPERVISOR,
                        {"rule": rule, "size": size, "seed": self.seed, "period": str(quarter)},
                    )
                except ApiError as e:
                    if e.status not in (404, 409, 422):
                        raise
                    continue  # nothing to draw by this rule (yet)
                drawn.extend(answer["items"])

        def score(item: dict[str, Any]) -> None:
            r = random.Random(item["id"])
            checklist = {
                "identity_verified": bool(item.get("case_identity_verified")),
                "courtesy": r.choices((5, 4, 3), (60, 30, 10))[0],
                "accuracy": r.choices((5, 4, 3, 2), (55, 30, 10, 5))[0],
                "time_limit_kept": not item.get("case_breached"),
                "followup_done": bool(item.get("case_followup_done")),
            }
            findings = (
                "记录完整，答复规范" if checklist["accuracy"] >= 4 else "答复不够准确，需辅导"
            )
            self.api.post(
                "followup",
                f"/inspections/{item['id']}/score",
                SUPERVISOR,
                {"checklist": checklist, "findings": findings},
            )
            self.count("inspections")

        self.parallel("inspections (drawn, scored)", drawn, score)

    def improvements(self, plan: Plan) -> None:
        def measure(entry: tuple[int, tuple[str, str, str, str]]) -> None:
            i, (problem, department, what, source) = entry
            created = self.api.post(
                "followup",
                "/improvements",
                SUPERVISOR,
                {
                    "problem": problem,
                    "department": department,
                    "measure": what,
                    "due_on": (clock.today() + timedelta(days=30 + 15 * i)).isoformat(),
                    "source": source,
                    "source_ref": str(self.quarter),
                },
            )
            head: Who = (data.head_of(department), "department_head")
            for status in ("in_progress", "done")[: 2 - i]:
                self.api.post(
                    "followup",
                    f"/improvements/{created['id']}/status",
                    head,
                    {"status": status, "note": "按计划推进"},
                )
            self.count("improvements")

        self.parallel("improvement measures", list(enumerate(data.IMPROVEMENTS)), measure)

    # --- training and incentives ---------------------------------------------------------------

    def training(self, plan: Plan, calendar: Calendar) -> None:
        """A session of each course, spread over the two quarters, with attendance and
        assessments."""
        first = plan.start.date()
        last = min(clock.today(), self.quarter.end.date() - timedelta(days=1))
        days = [first + timedelta(days=n) for n in range((last - first).days)]
        working = [d for d in days if calendar.working(d)] or [first]
        staff = data.staff_directory()
        sessions: list[tuple[tuple[str, str, tuple[str, ...], int, float], int, date]] = []
        for n, course in enumerate(data.COURSES):
            on = working[(2 * n + 1) * len(working) // (2 * len(data.COURSES))]
            created = self.api.post(
                "training",
                "/sessions",
                TRAINER,
                {
                    "course_code": course[0],
                    "date": on.isoformat(),
                    "trainer": "培训中心 讲师组",
                    "capacity": 80,
                    "location": "培训中心三楼",
                },
            )
            sessions.append((course, created["id"], on))
            self.count("sessions")
        rng = random.Random(f"{plan.tag}/training")
        seats = [
            (course, session_id, on, str(person["staff_id"]), rng.random())
            for course, session_id, on in sessions
            for person in staff
            if person["role"] in course[2]
        ]

        def attend(seat: tuple[Any, int, date, str, float]) -> None:
            course, session_id, on, staff_id, luck = seat
            attended = luck < 0.93
            self._until_known(
                lambda: self.api.post(
                    "training",
                    f"/sessions/{session_id}/attendance",
                    TRAINER,
                    {"staff_id": staff_id, "attended": attended},
                )
            )
            self.count("attendance")
            if not attended:
                return
            drawn = random.Random(f"{staff_id}/{course[0]}/{luck}").gauss(89, 6)
            score = round(min(100.0, max(40.0, drawn)), 1)
            self.api.post(
                "training",
                "/assessments",
                TRAINER,
                {
                    "staff_id": staff_id,
                    "course_code": course[0],
                    "score": score,
                    "assessed_at": datetime.combine(on, dtime(16), TZ).isoformat(),
                    "session_id": session_id,
                },
            )
            self.count("assessments")
            self.count("passed" if score >= course[4] else "failed")

        self.parallel("training (attendance, assessments)", seats, attend)

    def _until_known(self, request: Callable[[], Any]) -> Any:
        """Training learns of staff from routing's staff.upserted: 404 until it has."""
        waited = 0.0
        while True:
            try:
                return request()
            except ApiError as e:
                if e.status != 404 or waited > self.patience:
                    raise
            time.sleep(0.5)
            waited += 0.5

    def incentives(self, plan: Plan) -> None:
        """The evaluation of the quarter before (it is over): nominations, three awards."""
        task = self.progress.add_task("incentive run and awards", total=None)
        period = str(self.quarter.previous())
        watched = [data.agent_id(i) for i in (1, 2, 3)]

        def facts() -> int:
            total = 0
            for staff_id in watched:
                card = self.api.get(
                    "training", f"/scorecards/{staff_id}", SUPERVISOR, period=period
                )
                total += sum(int(f["events"]) for f in card["figures"].values())
            return total

        # the scorecards count events; let training catch up with the last of them
        last, stable, waited = -1, 0, 0.0
        while stable < 3 and waited < min(self.patience, 30):
            now_facts = facts()
            stable = stable + 1 if now_facts == last else 0
            last = now_facts
            time.sleep(0.7)
            waited += 0.7
        run = self.api.post("training", "/incentive-runs", SUPERVISOR, {"period": period})
        self.counts["nominations"] = len(run["nominations"])
        pending = [
            n for n in run["nominations"] if n["status"] == "pending" and n["staff_id"] in ROLE_OF
        ]
        self.progress.update(task, total=1 + min(3, len(pending)))
        self.progress.advance(task)
        for n in sorted(pending, key=lambda n: n["staff_id"])[:3]:
            self.api.post(
                "training",
                f"/nominations/{n['id']}/decision",
                SUPERVISOR,
                {"approve": True, "reason": "季度考核优秀"},
            )
            self.count("awards")
            self.progress.advance(task)

    # --- the summary ---------------------------------------------------------------------------

    def browser_links(self) -> list[tuple[str, str]]:
        """Pages a browser opens as they are: the token (a supervisor's, for 8 hours) is in
        the address, which the dashboard and the report take once (see followup's
        dashboard.BrowserToken)."""
        urls = self.api.urls
        token = mint_token(
            self.settings.jwt_secret, data.SUPERVISOR, ["supervisor"], ttl=LINK_TOKEN_TTL
        )
        links = [
            (
                f"quarterly report {quarter}",
                f"{urls['followup']}/reports/quarterly/{quarter}.html?token={token}",
            )
            for quarter in (self.quarter, self.quarter.previous())
        ]
        links.append(("follow-up dashboard", f"{urls['followup']}/dashboard?token={token}"))
        return links

    def print_links(self, links: list[tuple[str, str]]) -> None:
        for what, url in links:
            self.console.print(f"  {what:<26} {url}", overflow="ignore", crop=False, soft_wrap=True)

    def summary(self, plan: Plan, elapsed: float) -> None:
        c = self.counts
        urls = self.api.urls
        period, before = str(self.quarter), str(self.quarter.previous())
        table = Table(
            title=f"cs demo: {before} and {period} up to now, seed {self.seed}, set {plan.set_no}",
            show_lines=False,
        )
        table.add_column("what")
        table.add_column("count", justify="right")
        table.add_column("detail")

        def row(what: str, n: int | str, detail: str = "") -> None:
            table.add_row(what, str(n), detail)

        def made(key: str) -> str:
            return f"{c[key + '_created']} new, {c[key + '_existing']} already there"

        row(
            "departments", c["departments_created"] + c["departments_existing"], made("departments")
        )
        row("staff", c["staff_created"] + c["staff_existing"], made("staff"))
        row("routing rules", c["rules_created"] + c["rules_existing"], made("rules"))
        row(
            "calendar",
            c["calendar_exceptions"],
            f"holidays and makeup days in {before} and {period};"
            f" {self.quarter.year} {'official' if c['calendar_official'] else 'provisional'}",
        )
        row("customers", c["customers"], f"accounts {plan.tag}…, {c['consents']} consent decisions")
        total = c["hotline"] + c["email"] + c["online"]
        row(
            "cases",
            total,
            f"hotline {c['hotline']} ({c['calls']} call records), e-mail {c['email']},"
            f" online {c['online']} (case.requested)",
        )
        for quarter in (self.quarter.previous(), self.quarter):
            received = [
                x.received_at for x in plan.cases if quarter.start <= x.received_at < quarter.end
            ]
            if received:
                row(
                    f"  received in {quarter}",
                    len(received),
                    f"{min(received):%m-%d %H:%M} to {max(received):%m-%d %H:%M}",
                )
        row("  first-contact resolutions", c["first_contact"], _share(c["first_contact"], total))
        row("  transferred", c["transferred"], _share(c["transferred"], total))
        departments = ", ".join(
            f"{d.removeprefix('DEMO-')} {c['routed_' + d]}"
            for d in WORK_DEPARTMENTS
            if c["routed_" + d]
        )
        if c["elsewhere"]:
            departments += f"; {c['elsewhere']} went to departments outside the demo"
        row("  handled by departments", c["handled"], departments)
        row("  complex, with an ETA", c["eta"], f"{c['in_department']} still in the departments")
        row("  answered later by the agent", c["later"])
        late = [x for x in plan.cases if x.late and plan.done(min(x.resolved_at, x.due_at))]
        row(
            "  past their time limit",
            len(late),
            f"{_share(len(late), total)}, from {min(x.due_at for x in late):%m-%d} to"
            f" {max(x.due_at for x in late):%m-%d}"
            if late
            else "",
        )
        row("  still open (their next step is to come)", c["open_now"] + c["in_department"])
        if plan.outage_region and plan.outage_at:
            row(
                "  broadband outage",
                sum(1 for x in plan.cases if x.outage),
                f"{plan.outage_region}, from {plan.outage_at:%Y-%m-%d %H:%M}",
            )
        row(
            "follow-up calls",
            c["call_attempts"],
            f"{c['reached']} reached, {c['unreachable']} unreachable,"
            f" {c['calls_pending']} not called yet",
        )
        row("  not solved → reopened", c["reopened"], f"{c['resolved_again']} solved again")
        row(
            "campaign",
            c["campaign_responses"],
            f"answers of {c['campaign_drawn']} drawn, {c['suggestions']} suggestions",
        )
        row("inspections scored", c["inspections"], f"{before} and {period}")
        row("improvement measures", c["improvements"])
        row(
            "training",
            c["assessments"],
            f"assessments ({c['passed']} passed) in {c['sessions']} sessions,"
            f" {c['attendance']} attendance records",
        )
        row(
            "incentive nominations",
            c["nominations"],
            f"{before}: {c['awards']} approved as awards",
        )
        self.console.print(table)
        for quarter in (self.quarter.previous(), self.quarter):
            self.report_figures(str(quarter))
        self.console.print("[bold]Where to look[/] (in a browser, as they are, for 8 hours):")
        self.print_links(self.browser_links())
        look = [
            ("  the report as JSON", f"{urls['followup']}/reports/quarterly/{period}"),
            ("  the same as CSV", f"{urls['followup']}/reports/quarterly/{period}?format=csv"),
            ("cases", f"{urls['intake']}/cases?received_from={plan.start.date()}"),
            ("a work queue", f"{urls['routing']}/work-items?department=DEMO-NETOPS"),
            ("breached time limits", f"{urls['routing']}/sla/breached"),
            ("a scorecard", f"{urls['training']}/scorecards/{data.agent_id(1)}?period={before}"),
            ("nominations", f"{urls['training']}/nominations?period={before}"),
            *((f"API docs of {s}", f"{urls[s]}/docs") for s in SERVICES),
        ]
        self.console.print("With a bearer header (or from the API docs' Authorize button):")
        self.print_links(look)
        self.console.print(
            "A token: .venv/bin/cs token"
            f" --subject {data.SUPERVISOR} --role supervisor"
            f" (an agent: --subject {data.agent_id(1)} --role agent)."
        )
        self.console.print(
            f"Done in {elapsed:.0f} s ({self.api.requests} requests)."
            + (f" {len(self.notes)} note(s) above." if self.notes else "")
        )

    def report_figures(self, period: str) -> None:
        try:
            report = self.api.get("followup", f"/reports/quarterly/{period}", SUPERVISOR)
        except ApiError as e:
            self.note(f"the quarterly report is not available: {e}")
            return
        s, t = report.get("satisfaction", {}), report.get("time_limits", {})
        f, comp = report.get("followups", {}), report.get("complaints", {})

        def shown(value: Any, unit: str = "") -> str:
            return "–" if value is None else f"{value}{unit}"

        self.console.print(
            f"In the {period} report: satisfaction {shown(s.get('mean'))}"
            f" (CSAT {shown(s.get('csat_percent'), ' %')}, {shown(s.get('responses'))} answers),"
            f" {shown(comp.get('volume'))} complaints ({shown(comp.get('previous_volume'))} in"
            f" {shown(comp.get('previous_quarter'))}), time limits kept"
            f" {shown(t.get('compliance_percent'), ' %')} ({shown(t.get('met'))} met,"
            f" {shown(t.get('breached'))} breached), follow-ups reached"
            f" {shown(f.get('reach_rate_percent'), ' %')}."
        )


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else ""
