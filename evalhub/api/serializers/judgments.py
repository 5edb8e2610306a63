"""Judgments: the import result."""

from __future__ import annotations

from rest_framework import serializers


class JudgmentImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    judge_group = serializers.CharField()
    imported_from = serializers.CharField()
    changed_nothing = serializers.BooleanField()
    detail = serializers.CharField()
