from django.urls import path

from planner import views

urlpatterns = [
    path("", views.home, name="home"),
    path("components/", views.components, name="components"),
    path("lab/switch/", views.switch_lab, name="switch_lab"),
    path("studies/", views.study_list, name="study_list"),
    path("studies/new/", views.study_create, name="study_create"),
    path("studies/<int:pk>/", views.study_detail, name="study_detail"),
    path("studies/<int:pk>/edit/", views.study_edit, name="study_edit"),
    path(
        "history/<str:app_label>/<str:model_name>/<int:pk>/",
        views.object_history,
        name="object_history",
    ),
    path("audit/", views.audit_search, name="audit_search"),
]
