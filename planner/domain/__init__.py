"""The planner's pure core: schedule notation, working calendar, protocol parameters, sample size.

Everything here is plain Python (plus scipy for the sample-size helper) over frozen dataclasses:
no Django, DRF or Celery, so that models, services, pages, the API and background tasks share one
implementation of the rules and the tests need no database. Errors are
:class:`planner.domain.errors.DomainError` (one message) or
:class:`planner.domain.errors.ParameterErrors` (messages per field); services translate them into
Django ``ValidationError`` with the same field keys.
"""
