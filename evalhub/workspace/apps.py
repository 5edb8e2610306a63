from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The researcher workspace: uploads, study set-up and lifecycle, judges, exports.
    Pages only; the writes are the other apps' services."""

    name = "evalhub.workspace"
    label = "workspace"
