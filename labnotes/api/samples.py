"""API for samples and necropsies. Blinding: a sample's reference dose (which agent, which
occurrence) is shown only to readers who see dosing; the timing against it (offset, window,
flag) is shown to everyone, since it says nothing about the arm."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from labnotes.api.serializers import ReasonSerializer, blinding_in
from labnotes.documents.model import LabelSize
from labnotes.documents.sample_labels import render_sample_labels_pdf
from labnotes.models import Animal, Necropsy, Sample, SampleTissue, Task, Tumour
from labnotes.models.dosing import DoseRecord
from labnotes.selectors import list_animals_for_user, list_tasks_for_user, list_tumours_for_user
from labnotes.selectors_samples import (
    list_doses_for_sampling,
    list_necropsies_for_user,
    list_samples_for_user,
)
from labnotes.services import necropsy as necropsy_services
from labnotes.services import samples as sample_services
from labnotes.services.common import StaleWrite
from planner.api.conventions import (
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    ReasonField,
    VivologViewSetMixin,
    etag_for,
    request_user,
    versioned_update,
)

ReadOnly = (mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet)
Writable = (mixins.CreateModelMixin, mixins.UpdateModelMixin, *ReadOnly)


def _scoped(serializer: serializers.Serializer[Any], name: str, queryset: QuerySet[Any]) -> None:
    request = serializer.context.get("request")
    if request is not None:
        serializer.fields[name].queryset = queryset  # type: ignore[attr-defined]


# -- samples -----------------------------------------------------------------------------------


class SampleSerializer(serializers.ModelSerializer[Sample]):
    animal_tag = serializers.CharField(source="animal.tag", read_only=True)
    run = serializers.IntegerField(source="animal.run_id", read_only=True)
    tumour_site = serializers.CharField(source="tumour.site", read_only=True, default=None)
    dose = serializers.SerializerMethodField()
    storage_location = serializers.CharField(read_only=True)
    collected_by = serializers.CharField(source="collected_by.get_username", read_only=True)
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Sample
        fields = [
            "id",
            "barcode",
            "barcode_generated",
            "run",
            "animal",
            "animal_tag",
            "tumour",
            "tumour_site",
            "tissue",
            "tissue_detail",
            "procedure",
            "task",
            "necropsy",
            "collected_at",
            "study_day",
            "dose",
            "dose_given_at",
            "nominal_hours_after_dose",
            "window_minutes",
            "actual_minutes_after_dose",
            "outside_window",
            "volume_ul",
            "mass_mg",
            "freezer",
            "rack",
            "box",
            "position",
            "storage_location",
            "notes",
            "collected_by",
            "created_at",
            "voided_at",
            "void_reason",
            "row_version",
        ]
        read_only_fields = fields

    def get_dose(self, sample: Sample) -> dict[str, Any] | None:
        dose = sample.dose
        if dose is None or not blinding_in(self, sample.animal.run.study).sees_dosing:
            return None
        return {
            "id": dose.pk,
            "agent": dose.regimen_item.agent,
            "occurrence": dose.occurrence,
            "given_at": dose.given_at,
        }

    def to_representation(self, instance: Sample) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not blinding_in(self, instance.animal.run.study).sees_dosing:
            data["dose_given_at"] = None
        return data


class SampleCreateSerializer(serializers.Serializer[Any]):
    animal = serializers.PrimaryKeyRelatedField(queryset=Animal.objects.none())
    tissue = serializers.ChoiceField(choices=SampleTissue.choices)
    tissue_detail = serializers.CharField(max_length=120, required=False, allow_blank=True)
    tumour = serializers.PrimaryKeyRelatedField(queryset=Tumour.objects.none(), required=False)
    task = serializers.PrimaryKeyRelatedField(queryset=Task.objects.none(), required=False)
    necropsy = serializers.PrimaryKeyRelatedField(queryset=Necropsy.objects.none(), required=False)
    collected_at = serializers.DateTimeField()
    dose = serializers.PrimaryKeyRelatedField(queryset=DoseRecord.objects.none(), required=False)
    nominal_hours_after_dose = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False
    )
    window_minutes = serializers.IntegerField(min_value=0, max_value=1440, required=False)
    volume_ul = serializers.DecimalField(max_digits=8, decimal_places=1, required=False)
    mass_mg = serializers.DecimalField(max_digits=8, decimal_places=1, required=False)
    barcode = serializers.CharField(max_length=80, required=False, allow_blank=True)
    freezer = serializers.CharField(max_length=60, required=False, allow_blank=True)
    rack = serializers.CharField(max_length=40, required=False, allow_blank=True)
    box = serializers.CharField(max_length=40, required=False, allow_blank=True)
    position = serializers.CharField(max_length=20, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            user = request.user
            _scoped(self, "animal", list_animals_for_user(user))
            _scoped(self, "tumour", list_tumours_for_user(user))
            _scoped(self, "task", list_tasks_for_user(user))
            _scoped(self, "necropsy", list_necropsies_for_user(user))
            _scoped(self, "dose", list_doses_for_sampling(user))


class SampleCorrectionSerializer(serializers.Serializer[Any]):
    collected_at = serializers.DateTimeField(required=False)
    tissue_detail = serializers.CharField(max_length=120, required=False, allow_blank=True)
    volume_ul = serializers.DecimalField(
        max_digits=8, decimal_places=1, required=False, allow_null=True
    )
    mass_mg = serializers.DecimalField(
        max_digits=8, decimal_places=1, required=False, allow_null=True
    )
    freezer = serializers.CharField(max_length=60, required=False, allow_blank=True)
    rack = serializers.CharField(max_length=40, required=False, allow_blank=True)
    box = serializers.CharField(max_length=40, required=False, allow_blank=True)
    position = serializers.CharField(max_length=20, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    reason = ReasonField()


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


class SampleViewSet(VivologViewSetMixin, *Writable):  # type: ignore[misc]
    """Samples. ``POST`` records one (barcode generated when none is given); ``PATCH`` corrects
    storage place, amounts, notes or time with ``If-Match`` and a ``reason``. Filter with
    ``?run=``, ``?animal=``, ``?tissue=``, ``?barcode=``."""

    serializer_class = SampleSerializer

    def get_queryset(self) -> QuerySet[Sample]:
        samples = list_samples_for_user(self.request.user).order_by("animal__tag", "collected_at")
        params = self.request.query_params
        for name, lookup in (
            ("run", "animal__run"),
            ("animal", "animal"),
            ("tissue", "tissue"),
            ("barcode", "barcode"),
        ):
            value = params.get(name)
            if value:
                if name in ("run", "animal") and not value.isdigit():
                    return samples.none()
                samples = samples.filter(**{lookup: value})
        return samples

    @extend_schema(request=SampleCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = SampleCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        sample = sample_services.record_sample(
            collected_by=request_user(request), **dict(body.validated_data)
        )
        sample = self.get_queryset().get(pk=sample.pk)
        return Response(
            self.get_serializer(sample).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(sample)},
        )

    @extend_schema(request=SampleCorrectionSerializer, parameters=[IF_MATCH_HEADER])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sample = self.get_object()
        return versioned_update(
            request,
            sample,
            serializer_class=SampleCorrectionSerializer,
            service=sample_services.correct_sample,
            render=lambda updated: self.get_serializer(self.get_queryset().get(pk=updated.pk)).data,
            stale=(StaleWrite,),
            sample=sample,
            changed_by=request_user(request),
        )

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        sample = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        voided = sample_services.void_sample(
            sample=sample, voided_by=request_user(request), reason=body.validated_data["reason"]
        )
        voided = self.get_queryset().get(pk=voided.pk)
        return Response(self.get_serializer(voided).data, headers={"ETag": etag_for(voided)})

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"], url_path="label")
    def label(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The sample's label as PDF (``?size=cage_card`` for A4 sheets of 89 x 51 mm)."""
        sample = self.get_object()
        size: LabelSize = (
            "cage_card" if request.query_params.get("size") == "cage_card" else "thermal_label"
        )
        labels = sample_services.build_sample_labels([sample])
        return _pdf(render_sample_labels_pdf(labels, size=size), f"sample-{sample.barcode}.pdf")


# -- necropsies --------------------------------------------------------------------------------


class TumourWeightSerializer(serializers.Serializer[Any]):
    tumour = serializers.IntegerField()
    weight_mg = serializers.CharField(max_length=20)


class OrganWeightSerializer(serializers.Serializer[Any]):
    organ = serializers.CharField(max_length=80, allow_blank=True)
    weight_mg = serializers.CharField(max_length=20, allow_blank=True)


class MetastasisCountSerializer(serializers.Serializer[Any]):
    organ = serializers.CharField(max_length=80, allow_blank=True)
    count = serializers.CharField(max_length=20, allow_blank=True)


class NecropsySerializer(serializers.ModelSerializer[Necropsy]):
    animal_tag = serializers.CharField(source="animal.tag", read_only=True)
    run = serializers.IntegerField(source="animal.run_id", read_only=True)
    performed_by = serializers.CharField(source="performed_by.get_username", read_only=True)
    organ_ratios = serializers.SerializerMethodField()
    samples = serializers.SerializerMethodField()
    row_version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Necropsy
        fields = [
            "id",
            "run",
            "animal",
            "animal_tag",
            "performed_at",
            "study_day",
            "protocol_version",
            "terminal_body_weight_g",
            "tumour_weights",
            "organ_weights",
            "organ_ratios",
            "metastasis_counts",
            "gross_findings",
            "gross_notes",
            "samples",
            "performed_by",
            "created_at",
            "voided_at",
            "void_reason",
            "row_version",
        ]
        read_only_fields = fields

    def get_organ_ratios(self, necropsy: Necropsy) -> list[dict[str, Any]]:
        ratios = necropsy_services.organ_body_ratios(
            organ_weights=necropsy.organ_weights,
            terminal_body_weight_g=necropsy.terminal_body_weight_g,
            tumour_weights=necropsy.tumour_weights,
        )
        return [
            {
                "organ": ratio.organ,
                "weight_mg": str(ratio.weight_mg),
                "percent_of_body_weight": _text(ratio.percent_of_body_weight),
                "percent_of_tumour_free_body_weight": _text(
                    ratio.percent_of_tumour_free_body_weight
                ),
            }
            for ratio in ratios
        ]

    def get_samples(self, necropsy: Necropsy) -> list[dict[str, Any]]:
        return [
            {"id": sample.pk, "barcode": sample.barcode, "tissue": sample.tissue}
            for sample in necropsy.samples.all()
        ]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class NecropsyWriteSerializer(serializers.Serializer[Any]):
    performed_at = serializers.DateTimeField()
    terminal_body_weight_g = serializers.CharField(
        max_length=20, required=False, allow_blank=True, allow_null=True
    )
    tumour_weights = TumourWeightSerializer(many=True, required=False)
    organ_weights = OrganWeightSerializer(many=True, required=False)
    metastasis_counts = MetastasisCountSerializer(many=True, required=False)
    gross_findings = serializers.ListField(child=serializers.CharField(), required=False)
    gross_notes = serializers.CharField(required=False, allow_blank=True)
    samples = serializers.PrimaryKeyRelatedField(
        queryset=Sample.objects.none(), many=True, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["samples"].child_relation.queryset = list_samples_for_user(  # type: ignore[attr-defined]
                request.user
            )


class NecropsyCreateSerializer(NecropsyWriteSerializer):
    animal = serializers.PrimaryKeyRelatedField(queryset=Animal.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            _scoped(self, "animal", list_animals_for_user(request.user))


class NecropsyUpdateSerializer(NecropsyWriteSerializer):
    reason = ReasonField()


class NecropsyViewSet(VivologViewSetMixin, *Writable):  # type: ignore[misc]
    """Necropsy records with organ/body weight ratios. ``PATCH`` corrects with ``If-Match`` and
    a ``reason``; ``?run=`` filters."""

    serializer_class = NecropsySerializer

    def get_queryset(self) -> QuerySet[Necropsy]:
        necropsies = list_necropsies_for_user(self.request.user).prefetch_related("samples")
        run = self.request.query_params.get("run")
        if run:
            if not run.isdigit():
                return necropsies.none()
            necropsies = necropsies.filter(animal__run=run)
        return necropsies.order_by("animal__run", "animal__tag", "pk")

    @extend_schema(request=NecropsyCreateSerializer, parameters=[IDEMPOTENCY_HEADER])
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = NecropsyCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        necropsy = necropsy_services.record_necropsy(
            performed_by=request_user(request), **dict(body.validated_data)
        )
        necropsy = self.get_queryset().get(pk=necropsy.pk)
        return Response(
            self.get_serializer(necropsy).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(necropsy)},
        )

    @extend_schema(request=NecropsyUpdateSerializer, parameters=[IF_MATCH_HEADER])
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        necropsy = self.get_object()
        return versioned_update(
            request,
            necropsy,
            serializer_class=NecropsyUpdateSerializer,
            service=necropsy_services.update_necropsy,
            render=lambda updated: self.get_serializer(self.get_queryset().get(pk=updated.pk)).data,
            stale=(StaleWrite,),
            context=self.get_serializer_context(),
            necropsy=necropsy,
            changed_by=request_user(request),
        )

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        necropsy = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        voided = necropsy_services.void_necropsy(
            necropsy=necropsy, voided_by=request_user(request), reason=body.validated_data["reason"]
        )
        voided = self.get_queryset().get(pk=voided.pk)
        return Response(self.get_serializer(voided).data, headers={"ETag": etag_for(voided)})
