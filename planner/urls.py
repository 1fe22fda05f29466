from django.urls import path

from planner import design_pages, views, views_signatures

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "sign/<str:app_label>/<str:model_name>/<int:pk>/",
        views_signatures.sign_record,
        name="sign_record",
    ),
    path("components/", views.components, name="components"),
    path("lab/switch/", views.switch_lab, name="switch_lab"),
    path("studies/", views.study_list, name="study_list"),
    path("studies/new/", views.study_create, name="study_create"),
    path("studies/<int:pk>/", design_pages.study_design, name="study_detail"),
    path("studies/<int:pk>/design/", design_pages.study_design_edit, name="study_design_edit"),
    path("studies/<int:pk>/arms/", design_pages.study_add_arm, name="study_add_arm"),
    path(
        "studies/<int:pk>/procedures/", design_pages.study_set_procedure, name="study_set_procedure"
    ),
    path(
        "studies/<int:pk>/status/<str:name>/",
        design_pages.study_transition,
        name="study_transition",
    ),
    path("studies/<int:pk>/clone/", design_pages.study_clone, name="study_clone"),
    path("studies/<int:pk>/members/", design_pages.study_set_member, name="study_set_member"),
    path("studies/<int:pk>/preview/", design_pages.study_preview, name="study_preview"),
    path("studies/<int:pk>/amendments/", design_pages.study_amendments, name="study_amendments"),
    path(
        "amendments/<int:pk>/<str:decision>/",
        design_pages.amendment_decide,
        name="amendment_decide",
    ),
    path("arms/<int:pk>/remove/", design_pages.arm_remove, name="arm_remove"),
    path("arms/<int:pk>/edit/", design_pages.arm_edit, name="arm_edit"),
    path("regimen-items/<int:pk>/edit/", design_pages.regimen_item_edit, name="regimen_item_edit"),
    path("procedures/<int:pk>/remove/", design_pages.procedure_remove, name="procedure_remove"),
    path("ethics/<int:pk>/edit/", design_pages.ethics_edit, name="ethics_edit"),
    path("calendar/holidays/<int:pk>/remove/", design_pages.holiday_remove, name="holiday_remove"),
    path("calendar/closures/<int:pk>/remove/", design_pages.closure_remove, name="closure_remove"),
    path("arms/<int:pk>/regimen/", design_pages.arm_add_regimen_item, name="arm_add_regimen_item"),
    path("arms/<int:pk>/satellites/", design_pages.arm_add_satellite, name="arm_add_satellite"),
    path(
        "regimen-items/<int:pk>/remove/",
        design_pages.regimen_item_remove,
        name="regimen_item_remove",
    ),
    path("protocols/", design_pages.protocol_list, name="protocol_list"),
    path("protocols/new/", design_pages.protocol_create, name="protocol_create"),
    path("protocols/<int:pk>/", design_pages.protocol_detail, name="protocol_detail"),
    path(
        "protocols/<int:pk>/new-version/",
        design_pages.protocol_new_version,
        name="protocol_new_version",
    ),
    path("protocols/<int:pk>/clone/", design_pages.protocol_clone, name="protocol_clone"),
    path("protocols/<int:pk>/retire/", design_pages.protocol_retire, name="protocol_retire"),
    path(
        "protocol-versions/<int:pk>/edit/",
        design_pages.protocol_version_edit,
        name="protocol_version_edit",
    ),
    path(
        "protocol-versions/<int:pk>/release/",
        design_pages.protocol_version_release,
        name="protocol_version_release",
    ),
    path(
        "protocol-versions/<int:pk>/diff/",
        design_pages.protocol_version_diff,
        name="protocol_version_diff",
    ),
    path("ethics/", design_pages.ethics_list, name="ethics_list"),
    path("calendar/", design_pages.calendar_settings, name="calendar_settings"),
    path("sample-size/", design_pages.sample_size, name="sample_size"),
    path("studies/<int:pk>/edit/", views.study_edit, name="study_edit"),
    path(
        "history/<str:app_label>/<str:model_name>/<int:pk>/",
        views.object_history,
        name="object_history",
    ),
    path("audit/", views.audit_search, name="audit_search"),
]
