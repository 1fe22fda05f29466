from django.urls import path

from labnotes import views
from labnotes.views import prints, runs, today

urlpatterns = [
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
    path("runs/<int:pk>/randomize/", runs.run_randomize, name="run_randomize"),
    path("runs/<int:pk>/worksheet/", prints.worksheet_html, name="run_worksheet"),
    path("runs/<int:pk>/worksheet.pdf", prints.worksheet_pdf, name="run_worksheet_pdf"),
    path("runs/<int:pk>/cage-cards.pdf", prints.run_cage_cards, name="run_cage_cards"),
    path("runs/<int:pk>/animal-labels.pdf", prints.run_animal_labels, name="run_animal_labels"),
    path("animals/<int:pk>/", runs.animal_detail, name="animal_detail"),
    path("animals/<int:pk>/exclude/", runs.animal_exclude, name="animal_exclude"),
    path("animals/<int:pk>/unblind/", runs.animal_unblind, name="animal_unblind"),
    path("cages/<int:pk>/", runs.cage_detail, name="cage_detail"),
    path("cages/<int:pk>/move/", runs.cage_move, name="cage_move"),
    path("cages/<int:pk>/split/", runs.cage_split, name="cage_split"),
    path("cages/<int:pk>/card.pdf", prints.cage_card, name="cage_card"),
    path("batches/<int:pk>/", runs.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/apply/", runs.batch_apply, name="batch_apply"),
    path("batches/<int:pk>/void/", runs.batch_void, name="batch_void"),
]
