"""factory_boy factories for the core models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.studies.models import Study
from evalhub.teams.models import Membership, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "password")


class PromptSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromptSet

    team = factory.LazyFunction(lambda: lab_team())
    slug = factory.Sequence(lambda n: f"set-{n}")
    name = factory.LazyAttribute(lambda o: o.slug)


class PromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prompt

    prompt_set = factory.SubFactory(PromptSetFactory)
    external_id = factory.Sequence(lambda n: f"p{n}")
    text = factory.Sequence(lambda n: f"Question number {n}?")
    category = "advice"
    position = factory.Sequence(lambda n: n)


class ModelEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelEntry

    team = factory.LazyFunction(lambda: lab_team())
    slug = factory.Sequence(lambda n: f"model-{n}")
    name = factory.LazyAttribute(lambda o: o.slug)


class OutputFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Output

    prompt = factory.SubFactory(PromptFactory)
    model = factory.SubFactory(ModelEntryFactory)
    text = factory.Sequence(lambda n: f"Answer {n}.")
    html = factory.LazyAttribute(lambda o: f"<p>{o.text}</p>")


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study

    team = factory.LazyFunction(lambda: lab_team())
    slug = factory.Sequence(lambda n: f"study-{n}")
    name = factory.LazyAttribute(lambda o: o.slug)
    prompt_set = factory.SubFactory(PromptSetFactory)
    target_model = factory.SubFactory(ModelEntryFactory)
    completion_code = "DONE123"
    screenout_code = "SCREEN456"


def lab_team() -> Team:
    """The team the tests' objects belong to by default (alice owns it)."""
    return Team.objects.get_or_create(slug="lab", defaults={"name": "Lab"})[0]


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


def join(user, team: Team | None = None, role: str = "researcher") -> Membership:
    """Make `user` a member of `team` (default: lab) in `role`."""
    return Membership.objects.create(user=user, team=team or lab_team(), role=role)
