"""`cs demo`: a realistic history (the quarter before and the current one up to now) loaded
through the public HTTP APIs and the portal's event, as the other systems would report it.

`data` is the demo operator (departments, staff, rules, texts) and its fictitious people (phone
numbers and ID numbers that cannot belong to anyone), `periods` the quarters and routing's
working time, `quarter` turns a quarter, a seed and the clock into a `plan` with every step's
time (no I/O), `client` speaks HTTP with keep-alive and publishes `case.requested`, `run` plays
the `phases` in order on a `context` (the clients, the progress bars, the counts) and prints the
`summary`; `cli` adds `cs demo` to the `cs` CLI.
"""
