from django.urls import path

from labnotes import views
from labnotes.views import capture_settings as capture_settings_views
from labnotes.views import dashboard as run_dashboard_views
from labnotes.views import dosing as dosing_views
from labnotes.views import elisa as elisa_views
from labnotes.views import (
    files,
    grid,
    implantation,
    prints,
    runs,
    study_import,
    today,
    transcription,
    welfare,
)
from labnotes.views import flow as flow_views
from labnotes.views import instruments as instrument_views
from labnotes.views import locks as lock_views
from labnotes.views import notebook as notebook_views
from labnotes.views import qa as qa_views
from labnotes.views import reports as report_views
from labnotes.views import samples as sample_views

urlpatterns = [
    # dosing (issue 6, part 4)
    path("runs/<int:pk>/dosing/", dosing_views.run_dosing, name="run_dosing"),
    path(
        "runs/<int:pk>/dosing/batches/", dosing_views.run_dosing_batches, name="run_dosing_batches"
    ),
    path(
        "runs/<int:pk>/dosing/modifications/",
        dosing_views.run_dose_modifications,
        name="run_dose_modifications",
    ),
    path("dose-tasks/<int:pk>/row/", dosing_views.dose_task_row, name="dose_task_row"),
    path("dose-tasks/<int:pk>/record/", dosing_views.dose_task_record, name="dose_task_record"),
    path("dose-tasks/<int:pk>/missed/", dosing_views.dose_task_missed, name="dose_task_missed"),
    path(
        "formulation-batches/<int:pk>/void/",
        dosing_views.formulation_batch_void,
        name="formulation_batch_void",
    ),
    # run data lock (issue 10)
    path("runs/<int:pk>/lock/", lock_views.run_lock, name="run_lock"),
    # reports and the live dashboard (issue 8)
    path("runs/<int:pk>/reports/", report_views.run_reports, name="run_reports"),
    path("studies/<int:pk>/reports/", report_views.study_reports, name="study_reports"),
    path("reports/<int:pk>/", report_views.report_detail, name="report_detail"),
    path("reports/<int:pk>/files/<str:name>", report_views.report_download, name="report_download"),
    path("runs/<int:pk>/dashboard/", run_dashboard_views.run_dashboard, name="run_dashboard"),
    path(
        "runs/<int:pk>/dashboard/individual/",
        run_dashboard_views.run_dashboard_individual,
        name="run_dashboard_individual",
    ),
    path("system/", views.system, name="system"),
    path("system/self-test/", views.self_test, name="self_test"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("alerts/", views.outbound_messages, name="outbound_messages"),
    # today and calendar
    path("today/", today.today, name="today"),
    path("tasks/<int:pk>/complete/", today.task_complete, name="task_complete"),
    path("my-calendar/", today.calendar_feed_settings, name="calendar_feed_settings"),
    path("feeds/<str:token>/tasks.ics", today.calendar_feed, name="calendar_feed"),
    # runs
    path("runs/", runs.run_list, name="run_list"),
    path("studies/<int:pk>/runs/", runs.study_runs, name="study_runs"),
    path("studies/<int:pk>/unblind/", runs.study_unblind, name="study_unblind"),
    path("runs/<int:pk>/", runs.run_detail, name="run_detail"),
    path("runs/<int:pk>/animals/register/", runs.animal_register, name="animal_register"),
    path("runs/<int:pk>/cages/", runs.run_cages, name="run_cages"),
    path("runs/<int:pk>/staging/", runs.run_staging, name="run_staging"),
    path("runs/<int:pk>/implantation/", implantation.run_implantation, name="run_implantation"),
    path("runs/<int:pk>/rechallenge/", implantation.run_rechallenge, name="run_rechallenge"),
    path("runs/<int:pk>/randomize/", runs.run_randomize, name="run_randomize"),
    path("runs/<int:pk>/grid/", grid.run_grid, name="run_grid"),
    path("runs/<int:pk>/grid/save/", grid.grid_cell_save, name="grid_cell_save"),
    path("lab/instruments/", instrument_views.instrument_list, name="instrument_list"),
    path("lab/instruments/<int:pk>/", instrument_views.instrument_detail, name="instrument_detail"),
    path("lab/instruments/rules/", instrument_views.instrument_policy, name="instrument_policy"),
    path(
        "runs/<int:pk>/grid/instrument/",
        grid.grid_instrument,
        name="grid_instrument",
    ),
    path("lab/device-tokens/", instrument_views.device_token_list, name="device_token_list"),
    path(
        "lab/device-tokens/<int:pk>/revoke/",
        instrument_views.device_token_revoke,
        name="device_token_revoke",
    ),
    path(
        "lab/capture-settings/",
        capture_settings_views.capture_settings,
        name="capture_settings",
    ),
    path("runs/<int:pk>/worksheet/", prints.worksheet_html, name="run_worksheet"),
    path("runs/<int:pk>/worksheet.pdf", prints.worksheet_pdf, name="run_worksheet_pdf"),
    path("runs/<int:pk>/cage-cards.pdf", prints.run_cage_cards, name="run_cage_cards"),
    path("runs/<int:pk>/animal-labels.pdf", prints.run_animal_labels, name="run_animal_labels"),
    path("animals/<int:pk>/", runs.animal_detail, name="animal_detail"),
    path("animals/<int:pk>/exclude/", runs.animal_exclude, name="animal_exclude"),
    path("animals/<int:pk>/unblind/", runs.animal_unblind, name="animal_unblind"),
    path("animals/<int:pk>/endpoint/", welfare.animal_endpoint, name="animal_endpoint"),
    path("runs/<int:pk>/observations/", welfare.run_observations, name="run_observations"),
    path("cages/<int:pk>/", runs.cage_detail, name="cage_detail"),
    path("cages/<int:pk>/move/", runs.cage_move, name="cage_move"),
    path("cages/<int:pk>/split/", runs.cage_split, name="cage_split"),
    path("cages/<int:pk>/card.pdf", prints.cage_card, name="cage_card"),
    path("batches/<int:pk>/", runs.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/apply/", runs.batch_apply, name="batch_apply"),
    path("batches/<int:pk>/void/", runs.batch_void, name="batch_void"),
    # paper worksheets, study import, stored files
    path(
        "runs/<int:pk>/transcriptions/",
        transcription.transcription_list,
        name="transcription_list",
    ),
    path(
        "runs/<int:pk>/transcriptions/new/",
        transcription.transcription_new,
        name="transcription_new",
    ),
    path(
        "transcriptions/<int:pk>/",
        transcription.transcription_detail,
        name="transcription_detail",
    ),
    path(
        "transcriptions/<int:pk>/verify/",
        transcription.transcription_verify,
        name="transcription_verify",
    ),
    path(
        "transcriptions/<int:pk>/return/",
        transcription.transcription_return,
        name="transcription_return",
    ),
    path(
        "transcriptions/<int:pk>/correct/",
        transcription.transcription_correct,
        name="transcription_correct",
    ),
    path("runs/<int:pk>/import/", study_import.run_import, name="run_import"),
    path("files/<int:pk>/", files.file_download, name="file_download"),
    # flow cytometry (issue 9, part 2)
    path("runs/<int:pk>/flow/", flow_views.run_flow, name="run_flow"),
    path("runs/<int:pk>/flow/panels/new/", flow_views.flow_panel_new, name="flow_panel_new"),
    path("flow-panels/<int:pk>/import/", flow_views.flow_import, name="flow_import"),
    path("flow-panels/<int:pk>/fcs/", flow_views.flow_fcs_upload, name="flow_fcs_upload"),
    path(
        "flow-acquisitions/<int:pk>/",
        flow_views.flow_acquisition_detail,
        name="flow_acquisition_detail",
    ),
    path("flow-imports/<int:pk>/void/", flow_views.flow_import_void, name="flow_import_void"),
    # samples, necropsy and notebook (issue 6, parts 7 and 8)
    path("runs/<int:pk>/samples/", sample_views.run_samples, name="run_samples"),
    path("runs/<int:pk>/samples/new/", sample_views.sample_new, name="sample_new"),
    path(
        "runs/<int:pk>/sample-labels.pdf", sample_views.run_sample_labels, name="run_sample_labels"
    ),
    path("samples/<int:pk>/", sample_views.sample_detail, name="sample_detail"),
    path("samples/<int:pk>/correct/", sample_views.sample_correct, name="sample_correct"),
    path("samples/<int:pk>/void/", sample_views.sample_void, name="sample_void"),
    path("samples/<int:pk>/label.pdf", sample_views.sample_label, name="sample_label"),
    path("runs/<int:pk>/necropsies/", sample_views.run_necropsies, name="run_necropsies"),
    path("animals/<int:pk>/necropsy/", sample_views.animal_necropsy, name="animal_necropsy"),
    path("necropsies/<int:pk>/void/", sample_views.necropsy_void, name="necropsy_void"),
    # ELISA plates (issue 9)
    path("runs/<int:pk>/elisa/", elisa_views.run_plates, name="run_elisa_plates"),
    path("elisa/plates/<int:pk>/", elisa_views.plate_detail, name="elisa_plate_detail"),
    path("elisa/plates/<int:pk>/layout/", elisa_views.plate_layout, name="elisa_plate_layout"),
    path(
        "elisa/plates/<int:pk>/template/", elisa_views.plate_template, name="elisa_plate_template"
    ),
    path("elisa/plates/<int:pk>/import/", elisa_views.plate_import, name="elisa_plate_import"),
    path("elisa/plates/<int:pk>/decide/", elisa_views.plate_decide, name="elisa_plate_decide"),
    path("notebook/", notebook_views.notebook_list, name="notebook_list"),
    path("notebook/new/", notebook_views.notebook_new, name="notebook_new"),
    path("notebook/<int:pk>/", notebook_views.notebook_detail, name="notebook_detail"),
    path("notebook/<int:pk>/edit/", notebook_views.notebook_edit, name="notebook_edit"),
    path("notebook/<int:pk>/attachments/", notebook_views.notebook_attach, name="notebook_attach"),
    path("notebook/<int:pk>/void/", notebook_views.notebook_void, name="notebook_void"),
    path(
        "notebook/attachments/<int:pk>/",
        notebook_views.notebook_attachment,
        name="notebook_attachment",
    ),
    # deviations, QA inspections, archives, ethics usage (issue 10)
    path("runs/<int:pk>/deviations/", qa_views.run_deviations, name="run_deviations"),
    path("deviations/<int:pk>/", qa_views.deviation_detail, name="deviation_detail"),
    path("runs/<int:pk>/qa/", qa_views.run_inspections, name="run_inspections"),
    path("qa/inspections/<int:pk>/", qa_views.inspection_detail, name="inspection_detail"),
    path("studies/<int:pk>/archive/", qa_views.study_archive, name="study_archive"),
    path("archives/<int:pk>/package.zip", qa_views.archive_download, name="archive_download"),
    path("ethics/<int:pk>/usage/", qa_views.ethics_usage_page, name="ethics_usage"),
    path("ethics/<int:pk>/usage.csv", qa_views.ethics_usage_export, name="ethics_usage_csv"),
]
