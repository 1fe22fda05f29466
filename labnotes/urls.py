from django.urls import path

from labnotes import views

urlpatterns = [
    path("system/", views.system, name="system"),
    path("system/self-test/", views.self_test, name="self_test"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("alerts/", views.outbound_messages, name="outbound_messages"),
]
