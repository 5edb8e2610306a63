from django.contrib import admin

from evalhub.releases.models import Release


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["study", "version", "status", "archive_bytes", "pushed_to", "created_at"]
    list_filter = ["status"]
    # A published version never changes: everything is shown, nothing edited.
    readonly_fields = [f.name for f in Release._meta.fields]
