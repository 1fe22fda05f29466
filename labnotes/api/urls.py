from __future__ import annotations

from rest_framework.routers import DefaultRouter

from labnotes.api import device_files as device_files_api
from labnotes.api import device_flow as device_flow_api
from labnotes.api import dosing, measurements, transcription, views
from labnotes.api import elisa as elisa_api
from labnotes.api import ingest as ingest_api
from labnotes.api import instruments as instruments_api
from labnotes.api import notebook as notebook_api
from labnotes.api import samples as samples_api
from labnotes.api.flow import register as register_flow
from labnotes.api.qa import register as register_qa
from labnotes.api.reports import ReportViewSet
from labnotes.api.welfare import register as register_welfare

router = DefaultRouter()
router.register("study-runs", views.StudyRunViewSet, basename="study_run")
router.register("animals", views.AnimalViewSet, basename="animal")
router.register("cages", views.CageViewSet, basename="cage")
router.register("tumours", views.TumourViewSet, basename="tumour")
router.register("measurements", measurements.MeasurementViewSet, basename="measurement")
router.register(
    "randomization-batches", views.RandomizationBatchViewSet, basename="randomization_batch"
)
router.register("tasks", views.TaskViewSet, basename="task")
router.register("formulation-batches", dosing.FormulationBatchViewSet, basename="formulation_batch")
router.register("doses", dosing.DoseRecordViewSet, basename="dose")
router.register("dose-modifications", dosing.DoseModificationViewSet, basename="dose_modification")
router.register("unblindings", views.UnblindingViewSet, basename="unblinding")
register_welfare(router)
router.register("reports", ReportViewSet, basename="report")
router.register("files", transcription.StoredFileViewSet, basename="stored_file")
router.register(
    "transcription-sheets", transcription.TranscriptionSheetViewSet, basename="transcription_sheet"
)
router.register("study-imports", transcription.StudyImportViewSet, basename="study_import")
router.register("samples", samples_api.SampleViewSet, basename="sample")
router.register("necropsies", samples_api.NecropsyViewSet, basename="necropsy")
router.register("elisa-plates", elisa_api.ElisaPlateViewSet, basename="elisa_plate")
router.register("notebook-entries", notebook_api.NotebookEntryViewSet, basename="notebook_entry")

router.register("instruments", instruments_api.InstrumentViewSet, basename="instrument")
router.register("device-tokens", instruments_api.DeviceTokenViewSet, basename="device_token")
router.register(
    "instrument-settings",
    instruments_api.InstrumentSettingsViewSet,
    basename="instrument_settings",
)
router.register(
    "device/flow-results", device_flow_api.DeviceFlowResultViewSet, basename="device_flow_result"
)
router.register(
    "device/measurements", ingest_api.DeviceMeasurementViewSet, basename="device_measurement"
)
router.register("device/tasks", ingest_api.DeviceTaskViewSet, basename="device_task")
router.register(
    "device/plate-readings",
    device_files_api.DevicePlateReadingViewSet,
    basename="device_plate_reading",
)

register_flow(router)
register_qa(router)

urlpatterns = router.urls
