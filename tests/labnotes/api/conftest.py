from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from labnotes.services.animals import create_cage, move_animals
from labnotes.services.randomization import apply_randomization, preview_randomization
from tests.labnotes.builders import Design
from tests.labnotes.conftest import stage


@pytest.fixture
def randomized_run(design: Design, run: Any) -> Any:
    """40 animals in 8 cages, staged, randomized (balance) into 4 arms, tasks expanded."""
    animals = stage(design, run, 40, weights=True)
    for number in range(8):
        cage = create_cage(
            lab=design.lab,
            run=run,
            label=f"C{number + 1:02d}",
            capacity=5,
            room="R101",
            rack="A",
            position=str(number + 1),
            created_by=design.technician,
        )
        move_animals(
            animals=animals[number * 5 : (number + 1) * 5],
            cage=cage,
            moved_by=design.technician,
            reason="arrival",
        )
    batch = preview_randomization(run=run, requested_by=design.scientist, seed=2024, candidates=500)
    apply_randomization(batch=batch, applied_by=design.scientist)
    return run


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client
