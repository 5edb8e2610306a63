"""One audit log. Each EditRecord (audit app) becomes an AuditEvent of the edited object's
team, keeping who, when, what (type, id, name then) and before / after; an object deleted
since goes to its editor's first team, else to the default team "lab". Existing events get
the object's pk as object_id (it was its slug, or its pk) and its name as object_repr, so one
object's history is one filter. Nothing is dropped: the EditRecord table goes afterwards
(audit 0002), once every row is here."""

from django.db import migrations

DEFAULT_TEAM = "lab"
ACTIONS = {
    "edited": "object.edit",
    "renamed": "object.rename",
    "deleted": "object.delete",
    "outputs_replaced": "outputs.replace",
    "settings_changed": "settings.change",
}
BATCH = 2000


def _model(apps, label):
    app_label, _, name = label.partition(".")
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _has(model, field):
    return model is not None and any(f.name == field for f in model._meta.get_fields())


def events_name_objects_by_pk(apps, schema_editor):
    AuditEvent = apps.get_model("teams", "AuditEvent")
    for event in AuditEvent.objects.exclude(object_id="").iterator():
        model = _model(apps, event.object_type)
        pk = None
        if _has(model, "slug"):
            pk = model.objects.filter(slug=event.object_id).values_list("pk", flat=True).first()
        AuditEvent.objects.filter(pk=event.pk).update(
            object_repr=event.object_id[:200],
            object_id=str(pk) if pk is not None else event.object_id,
        )


def edit_records_into_events(apps, schema_editor):
    EditRecord = apps.get_model("audit", "EditRecord")
    AuditEvent = apps.get_model("teams", "AuditEvent")
    Team = apps.get_model("teams", "Team")
    Membership = apps.get_model("teams", "Membership")
    default = None
    teams_of: dict[tuple[str, int], int | None] = {}

    def team_of(record):
        nonlocal default
        key = (record.object_type, record.object_id)
        if key not in teams_of:
            model = _model(apps, record.object_type)
            teams_of[key] = (
                model.objects.filter(pk=record.object_id).values_list("team_id", flat=True).first()
                if _has(model, "team")
                else None
            )
        team_id = teams_of[key]
        if team_id is None and record.actor_id is not None:
            team_id = (
                Membership.objects.filter(user_id=record.actor_id)
                .order_by("team__name")
                .values_list("team_id", flat=True)
                .first()
            )
        if team_id is None:
            if default is None:
                default = Team.objects.get_or_create(slug=DEFAULT_TEAM, defaults={"name": "Lab"})[0]
            team_id = default.pk
        return team_id

    records = EditRecord.objects.order_by("pk")
    last = 0
    while True:
        batch = list(records.filter(pk__gt=last)[:BATCH])
        if not batch:
            break
        last = batch[-1].pk
        made = AuditEvent.objects.bulk_create(
            AuditEvent(
                team_id=team_of(r),
                actor_id=r.actor_id,
                action=ACTIONS.get(r.action, r.action),
                object_type=r.object_type,
                object_id=str(r.object_id),
                object_repr=r.object_repr,
                before=r.before,
                after=r.after,
            )
            for r in batch
        )
        # `at` is auto_now_add: set the recorded time afterwards.
        for event, record in zip(made, batch, strict=True):
            AuditEvent.objects.filter(pk=event.pk).update(at=record.at)


def events_back_into_edit_records(apps, schema_editor):
    """Reversed: the edit events become EditRecords again (the table is back by then)."""
    EditRecord = apps.get_model("audit", "EditRecord")
    AuditEvent = apps.get_model("teams", "AuditEvent")
    from django.db.models import Q

    back = {v: k for k, v in ACTIONS.items()}
    # A deletion was an edit when it kept what went (before); the others are all edits.
    edits = AuditEvent.objects.filter(
        Q(action__in=[a for a in back if a != "object.delete"])
        | (Q(action="object.delete") & ~Q(before={}))
    )
    for event in edits.order_by("pk").iterator():
        if not event.object_id.isdigit():
            continue
        record = EditRecord.objects.create(
            object_type=event.object_type,
            object_id=int(event.object_id),
            object_repr=event.object_repr,
            actor_id=event.actor_id,
            action=back[event.action],
            before=event.before,
            after=event.after,
        )
        EditRecord.objects.filter(pk=record.pk).update(at=event.at)
        event.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0003_one_audit_log_fields"),
        ("audit", "0001_edit_records"),
        ("studies", "0004_study_belongs_to_a_team"),
        ("prompts", "0002_team_owner"),
        ("outputs", "0002_team_owner"),
    ]
    operations = [
        migrations.RunPython(events_name_objects_by_pk, migrations.RunPython.noop),
        migrations.RunPython(edit_records_into_events, events_back_into_edit_records),
    ]
