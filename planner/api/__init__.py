"""The REST API conventions every resource follows, and the planner's resources."""
