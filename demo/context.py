"""What every phase of `cs demo` works with: the API client, the settings, the console and its
progress bars, the worker pool, the callers the requests name, and what the run has counted
and learnt so far (the cases intake opened, the ones resolved during this run)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
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

from demo import data
from demo.client import Api, ApiError, Who
from demo.plan import account_tag
from shared.config import Settings
from shared.periods import Period

K = TypeVar("K", bound=Hashable)
SUPERVISOR: Who = (data.SUPERVISOR, "supervisor")
TRAINER: Who = (data.TRAINER, "trainer")
CRM: Who = ("demo-crm", "system")
CTI: Who = (data.CTI, "system")  # also reports what agents do at their desks
MAIL: Who = (data.MAIL_GATEWAY, "system")
WORK_ORDERS: Who = (data.WORK_ORDERS, "system")  # the departments' work-order system
WORK_DEPARTMENTS = tuple(d.code for d in data.DEPARTMENTS if d.members)
ROLE_OF = {str(p["staff_id"]): str(p["role"]) for p in data.staff_directory()}


def dated(at: datetime, who: str, **body: Any) -> dict[str, Any]:
    """A request body of a step a reporting system reports: when it happened and who did it."""
    return dict(body, occurred_at=at.isoformat(), actor_id=who)


class Context:
    """One run of `cs demo`: its options, its ways in, its bookkeeping (thread-safe)."""

    def __init__(
        self,
        api: Api,
        settings: Settings,
        console: Console,
        quarter: Period,
        *,
        seed: int,
        cases: int,
        again: bool,
        workers: int,
        patience: float,
    ) -> None:
        self.api = api
        self.settings = settings
        self.console = console
        self.quarter = quarter
        self.seed = seed
        self.cases = cases
        self.again = again
        self.workers = max(1, workers)
        self.patience = patience
        self.counts: Counter[str] = Counter()
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.lock = threading.Lock()
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

    def tag(self, set_no: int) -> str:
        """What every account number of a set of this quarter and seed starts with."""
        return account_tag(self.quarter, self.seed, set_no)

    # --- bookkeeping ------------------------------------------------------------------------

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n

    def error(self, where: str, e: Exception) -> None:
        with self.lock:
            self.errors.append(f"{where}: {e}")

    def note(self, text: str) -> None:
        with self.lock:
            self.notes.append(text)
        self.progress.console.print(f"[yellow]note:[/] {text}")

    def opened(self, number: int, case_id: str) -> None:
        """Intake's id of the plan's case `number`."""
        with self.lock:
            self.case_ids[number] = case_id

    def resolved_now(self, case_id: str) -> None:
        """The case was resolved during this run (its follow-up call comes)."""
        with self.lock:
            self.resolved.add(case_id)

    # --- working in parallel ------------------------------------------------------------------

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

    # --- reading --------------------------------------------------------------------------------

    def pages(
        self, service: str, path: str, who: Any = SUPERVISOR, **query: Any
    ) -> list[dict[str, Any]]:
        """Every item of a paged list, as `who` (the supervisor unless told) sees it."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            got = self.api.get(service, path, who, page=page, per_page=500, **query)
            items.extend(got["items"])
            if page * got["per_page"] >= got["total"] or not got["items"]:
                return items
            page += 1
