from django.contrib import admin

from evalhub.outputs.models import ModelEntry, Output


@admin.register(ModelEntry)
class ModelEntryAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["slug", "name"]


@admin.register(Output)
class OutputAdmin(admin.ModelAdmin):
    list_display = ["id", "model", "prompt", "sample_index", "created_at"]
    list_filter = ["model"]
    search_fields = ["text"]
    raw_id_fields = ["prompt"]
    readonly_fields = ["html"]
