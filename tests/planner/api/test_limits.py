from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.exceptions import APIException

from planner.api.limits import enforce_row_limit


def test_row_limit_refuses_with_413_naming_limit_when_exceeded():
    with override_settings(VIVOLOG_MAX_BULK_ROWS=100):
        enforce_row_limit(100)
        with pytest.raises(APIException) as error:
            enforce_row_limit(101)
    assert error.value.status_code == 413
    assert "101 rows" in str(error.value.detail)
    assert "limit is 100" in str(error.value.detail)
