from django.contrib import admin

from evalhub.audit.models import EditRecord


@admin.register(EditRecord)
class EditRecordAdmin(admin.ModelAdmin):
    list_display = ("at", "object_type", "object_repr", "action", "actor")
    list_filter = ("object_type", "action")
    search_fields = ("object_repr",)
    readonly_fields = [f.name for f in EditRecord._meta.fields]

    def has_add_permission(self, request) -> bool:  # the record is written by services only
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
