"""Which of a network incident's cases get a follow-up call (pure, no I/O).

When an incident is resolved, intake resolves every linked case, one `case.resolved` each, and
they reach followup one at a time, in any order, through several consumers. Calling every
customer of a cut fibre back would drown the agents in calls that all confirm the same splice,
so only a sample is called: a share of the incident's cases, and at least a floor of them.

The decision is streaming, made as each resolution arrives, from the incident's count of calls
scheduled so far (kept on a row that is locked while the decision is taken):

- while fewer than `at_least` of the incident's cases got a call, the next one gets one (the
  floor: a small incident still gets its calls);
- after that, a case gets one when a stable hash of (incident id, case id), read as a fraction
  of 1, falls below `share`.

So about `share` of a large incident's cases are called (plus at most `at_least`), at least
`min(at_least, its cases)`, and a case's hash never depends on arrival order. A resolution is
decided once: a redelivered `case.resolved` finds its decision recorded and changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

HASH_BYTES = 8


class Reason(StrEnum):
    FLOOR = "floor"  # called: fewer than `at_least` calls so far
    SHARE = "share"  # called: its hash fell below the share
    NOT_SAMPLED = "not_sampled"  # not called, deliberately


@dataclass(frozen=True)
class SamplePolicy:
    """`share` of an incident's cases get a call (0 to 1), and at least `at_least` of them."""

    share: float = 0.10
    at_least: int = 5

    def __post_init__(self) -> None:
        if not 0 <= self.share <= 1:
            raise ValueError(f"the follow-up share must lie between 0 and 1, got {self.share}")
        if self.at_least < 0:
            raise ValueError(f"the follow-up floor cannot be negative, got {self.at_least}")


def fraction(incident_id: str, case_id: str) -> float:
    """A stable number in [0, 1) for the case within its incident (the same on every machine
    and in every process: SHA-256, not Python's salted hash)."""
    digest = hashlib.sha256(f"{incident_id}\x00{case_id}".encode()).digest()
    return int.from_bytes(digest[:HASH_BYTES], "big") / 2 ** (8 * HASH_BYTES)


def decide(incident_id: str, case_id: str, called_so_far: int, policy: SamplePolicy) -> Reason:
    """Whether this resolution of an incident case gets a follow-up call, and why."""
    if called_so_far < policy.at_least:
        return Reason.FLOOR
    if fraction(incident_id, case_id) < policy.share:
        return Reason.SHARE
    return Reason.NOT_SAMPLED


def sampled(incident_id: str, case_id: str, called_so_far: int, policy: SamplePolicy) -> bool:
    return decide(incident_id, case_id, called_so_far, policy) is not Reason.NOT_SAMPLED
