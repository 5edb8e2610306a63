from django.contrib import admin

from evalhub.pipeline.models import Pipeline, PipelineStep


class PipelineStepInline(admin.TabularInline):
    model = PipelineStep
    extra = 0
    readonly_fields = ("step", "job", "retries", "created_at")


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ("slug", "status", "step", "job", "created_at", "finished_at")
    list_filter = ("status", "step")
    readonly_fields = ("params", "result", "error")
    inlines = [PipelineStepInline]
