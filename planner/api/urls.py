from __future__ import annotations

from rest_framework.routers import DefaultRouter

from planner.api import design_views, signatures, views

router = DefaultRouter()
router.register("labs", views.LabViewSet, basename="lab")
router.register("studies", design_views.StudyDesignViewSet, basename="study")
router.register(
    "protocol-templates", design_views.ProtocolTemplateViewSet, basename="protocol_template"
)
router.register(
    "protocol-versions", design_views.ProtocolVersionViewSet, basename="protocol_version"
)
router.register("ethics-protocols", design_views.EthicsProtocolViewSet, basename="ethics_protocol")
router.register("arms", design_views.ArmViewSet, basename="arm")
router.register("regimen-items", design_views.RegimenItemViewSet, basename="regimen_item")
router.register("amendments", design_views.AmendmentViewSet, basename="amendment")
router.register("outbound-messages", views.OutboundMessageViewSet, basename="outbound_message")
router.register("signatures", signatures.SignatureViewSet, basename="signature")

urlpatterns = router.urls
