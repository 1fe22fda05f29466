from __future__ import annotations

from typing import Any

from rest_framework import serializers

from planner.api.conventions import ReasonField
from planner.models import Lab, OutboundMessage, Study


class LabSerializer(serializers.ModelSerializer[Lab]):
    class Meta:
        model = Lab
        fields = ["id", "name", "slug", "time_zone"]
        read_only_fields = fields


class StudySerializer(serializers.ModelSerializer[Study]):
    lab = serializers.SlugRelatedField(slug_field="slug", queryset=Lab.objects.none())
    reason = ReasonField()
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Study
        fields = [
            "id",
            "lab",
            "code",
            "title",
            "objective",
            "blinded",
            "status",
            "row_version",
            "created_at",
            "reason",
        ]
        read_only_fields = ["id", "status", "row_version", "created_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            from planner.selectors import list_labs_for_user

            self.fields["lab"].queryset = list_labs_for_user(request.user)  # type: ignore[attr-defined]


class StudyUpdateSerializer(serializers.Serializer[Study]):
    title = serializers.CharField(max_length=300, required=False)
    objective = serializers.CharField(allow_blank=True, required=False)
    blinded = serializers.BooleanField(required=False)
    reason = ReasonField()


class OutboundMessageSerializer(serializers.ModelSerializer[OutboundMessage]):
    recipient = serializers.CharField(source="recipient.username", default=None)

    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "recipient",
            "to_address",
            "subject",
            "reason",
            "related_object",
            "status",
            "attempts",
            "error",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields
