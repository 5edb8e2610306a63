from django.contrib import admin

from evalhub.prompts.models import Prompt, PromptSet


@admin.register(PromptSet)
class PromptSetAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["external_id", "prompt_set", "category", "source"]
    list_filter = ["prompt_set", "category"]
    search_fields = ["external_id", "text"]
