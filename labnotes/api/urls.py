from __future__ import annotations

from rest_framework.routers import DefaultRouter

from labnotes.api import views

router = DefaultRouter()
router.register("study-runs", views.StudyRunViewSet, basename="study_run")
router.register("animals", views.AnimalViewSet, basename="animal")
router.register("cages", views.CageViewSet, basename="cage")
router.register("tumours", views.TumourViewSet, basename="tumour")
router.register("measurements", views.MeasurementViewSet, basename="measurement")
router.register(
    "randomization-batches", views.RandomizationBatchViewSet, basename="randomization_batch"
)
router.register("tasks", views.TaskViewSet, basename="task")
router.register("unblindings", views.UnblindingViewSet, basename="unblinding")

urlpatterns = router.urls
