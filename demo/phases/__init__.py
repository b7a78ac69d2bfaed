"""`cs demo`'s phases, in the order demo/run.py plays them, each a module of functions taking
the run's Context (demo/context.py) and, once it is built, the Plan:

- `earlier`: is this quarter and seed loaded already? (which set to load, or what is there)
- `directory`: routing's calendar, departments, heads, staff, routing rules, courses,
  incentive rules; the fictitious customers and their consents
- `cases`: recording over the channels (hotline, e-mail, the portal's events), replies, and the
  agent's first action (solved at once, transferred, answered later)
- `department_work`: acceptance, progress with an ETA, and handling of the transfers
- `followup`: follow-up calls of resolved cases, reopening, the second solution and its call
- `supervision`: the campaign, inspections and improvement measures
- `training`: sessions with attendance and assessments, the incentive run and awards
"""
