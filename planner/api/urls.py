from __future__ import annotations

from rest_framework.routers import DefaultRouter

from planner.api import views

router = DefaultRouter()
router.register("labs", views.LabViewSet, basename="lab")
router.register("studies", views.StudyViewSet, basename="study")
router.register("outbound-messages", views.OutboundMessageViewSet, basename="outbound_message")

urlpatterns = router.urls
