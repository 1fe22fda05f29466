from django.urls import path

from planner.security import views

urlpatterns = [
    path("verify/", views.otp_verify, name="otp_verify"),
    path("enrol/", views.otp_enrol, name="otp_enrol"),
]
