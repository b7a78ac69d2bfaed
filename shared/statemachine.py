"""States, the actions allowed from each, and the error for one that is not (no I/O).

A `StateMachine` names a thing's states and, for each action, the states it may start from and
(optionally) the state it leads to. An action from any other state raises `IllegalTransition`,
a `Conflict`, so every service answers it with 409 (shared/errors.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shared.errors import Conflict


class IllegalTransition(Conflict):
    """The action is not possible in the current state (HTTP 409); says what is possible."""

    def __init__(
        self, action: str, state: str, allowed: Iterable[str] = (), noun: str = ""
    ) -> None:
        self.action, self.state, self.allowed = action, state, list(allowed)
        article = "an" if noun[:1] in tuple("aeiou") else "a"
        what = f"{article} {noun} that is {state}" if noun else f"from {state}"
        super().__init__(
            f"cannot {action} {what}"
            + (f"; possible now: {', '.join(self.allowed)}" if self.allowed else "")
        )


@dataclass(frozen=True)
class StateMachine:
    """`moves`: action -> the states it may start from; `targets`: action -> the state it leads
    to (actions without a target leave the state, or let the caller choose it)."""

    noun: str
    states: tuple[str, ...]
    moves: Mapping[str, frozenset[str]]
    targets: Mapping[str, str]
    sort_allowed: bool = False

    def __post_init__(self) -> None:
        known = set(self.states)
        for action, sources in self.moves.items():
            unknown = (set(sources) | {self.targets.get(action, self.states[0])}) - known
            if unknown:
                raise ValueError(f"{self.noun}: {action} names unknown states {sorted(unknown)}")

    def allowed(self, state: str) -> list[str]:
        """The actions possible from `state`, in declaration order (sorted if asked)."""
        found = [a for a, sources in self.moves.items() if state in sources]
        return sorted(found) if self.sort_allowed else found

    def may(self, action: str, state: str) -> bool:
        return state in self.moves[action]

    def check(self, action: str, state: str) -> None:
        """Raises IllegalTransition unless `action` may start from `state`."""
        if not self.may(action, state):
            raise IllegalTransition(action, state, self.allowed(state), self.noun)

    def next_state(self, state: str, action: str) -> str:
        """The state `action` leads to from `state` (IllegalTransition when not allowed)."""
        self.check(action, state)
        return self.targets.get(action, state)


def machine(
    noun: str,
    states: Iterable[str],
    transitions: Mapping[str, tuple[Iterable[str], str | None]],
    *,
    sort_allowed: bool = False,
) -> StateMachine:
    """`transitions`: action -> (states it may start from, state it leads to or None)."""
    return StateMachine(
        noun=noun,
        states=tuple(states),
        moves={a: frozenset(sources) for a, (sources, _) in transitions.items()},
        targets={a: target for a, (_, target) in transitions.items() if target is not None},
        sort_allowed=sort_allowed,
    )
