"""factory_boy factories for the models every test needs."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from planner.models import Lab, Membership, Study, StudyMember

TEST_PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory[object]):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


class LabFactory(DjangoModelFactory[Lab]):
    class Meta:
        model = Lab

    name = factory.Sequence(lambda n: f"Lab {n}")
    slug = factory.Sequence(lambda n: f"lab-{n}")
    time_zone = "Europe/Berlin"


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    lab = factory.SubFactory(LabFactory)
    role = "scientist"


class StudyFactory(DjangoModelFactory[Study]):
    class Meta:
        model = Study

    lab = factory.SubFactory(LabFactory)
    code = factory.Sequence(lambda n: f"ST-{n:03d}")
    title = factory.Sequence(lambda n: f"Study {n}")
    created_by = factory.SubFactory(UserFactory)


class StudyMemberFactory(DjangoModelFactory[StudyMember]):
    class Meta:
        model = StudyMember

    study = factory.SubFactory(StudyFactory)
    user = factory.SubFactory(UserFactory)
