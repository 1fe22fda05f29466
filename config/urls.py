from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from planner.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/second-factor/", include("planner.security.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/v1/", include("planner.api.urls")),
    path("api/v1/", include("labnotes.api.urls")),
    path("", include("labnotes.urls")),
    path("", include("planner.urls")),
]

handler404 = "planner.api.problems.api_aware_not_found"
