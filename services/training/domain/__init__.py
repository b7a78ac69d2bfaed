"""Training's rules with no I/O: periods, certificates and compliance, scorecard figures,
incentive rule evaluation."""
