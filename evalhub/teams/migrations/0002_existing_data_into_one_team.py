"""Today's data goes into one team, "Lab", whose owners are today's researchers (and
superusers); their API tokens work in it. Presets (instruments with is_preset) and jobs of
shared fits stay without a team."""

from django.db import migrations

OWNED = [
    ("prompts", "PromptSet"),
    ("outputs", "ModelEntry"),
    ("studies", "Judge"),
    ("studies", "Study"),
    ("instruments", "Instrument"),
    ("jobs", "Job"),
    ("training", "TrainingDataset"),
    ("training", "TrainingRun"),
    ("pipeline", "Pipeline"),
]


def existing_data_into_one_team(apps, schema_editor):
    User = apps.get_model("auth", "User")
    Team = apps.get_model("teams", "Team")
    Membership = apps.get_model("teams", "Membership")
    TeamToken = apps.get_model("teams", "TeamToken")
    AuthToken = apps.get_model("knox", "AuthToken")
    from django.db.models import Q

    owners = User.objects.filter(Q(groups__name="researcher") | Q(is_superuser=True)).distinct()
    models = [apps.get_model(app, name) for app, name in OWNED]
    owned = {m: m.objects.filter(team__isnull=True) for m in models}
    owned[apps.get_model("instruments", "Instrument")] = owned[
        apps.get_model("instruments", "Instrument")
    ].filter(is_preset=False)
    owned[apps.get_model("jobs", "Job")] = owned[apps.get_model("jobs", "Job")].exclude(kind="fit")
    if not owners.exists() and not any(qs.exists() for qs in owned.values()):
        return  # a fresh database: the first team is made by its first user
    # get_or_create and ignore_conflicts: a database migrated back and forth again (its
    # team tables kept) gets the same team, not a second one.
    team, _ = Team.objects.get_or_create(slug="lab", defaults={"name": "Lab"})
    Membership.objects.bulk_create(
        (Membership(user=user, team=team, role="owner") for user in owners),
        ignore_conflicts=True,
    )
    for qs in owned.values():
        qs.update(team=team)
    TeamToken.objects.bulk_create(
        (TeamToken(token=token, team=team) for token in AuthToken.objects.filter(user__in=owners)),
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0001_teams_members_tokens_audit"),
        ("accounts", "0001_roles"),
        ("prompts", "0002_team_owner"),
        ("outputs", "0002_team_owner"),
        ("studies", "0003_team_owner"),
        ("instruments", "0003_team_owner"),
        ("jobs", "0003_team_owner"),
        ("training", "0003_team_owner"),
        ("pipeline", "0002_team_owner"),
    ]
    operations = [
        migrations.RunPython(existing_data_into_one_team, migrations.RunPython.noop),
    ]
