"""Who makes a call: the least-loaded active agent, not the one who resolved the case."""

from __future__ import annotations

from collections.abc import Mapping


def pick_agent(loads: Mapping[str, int], exclude: str | None = None) -> str | None:
    """The agent with the fewest open tasks (ties: the smallest id), never `exclude`.

    None when no other agent is known: the task stays unassigned and any agent may take it.
    """
    candidates = sorted((n, agent) for agent, n in loads.items() if agent != exclude)
    return candidates[0][1] if candidates else None


def spread(loads: Mapping[str, int], count: int) -> list[str | None]:
    """`count` new tasks handed out one at a time to whoever is least loaded then."""
    current = dict(loads)
    chosen: list[str | None] = []
    for _ in range(count):
        agent = pick_agent(current)
        chosen.append(agent)
        if agent is not None:
            current[agent] += 1
    return chosen
