from django.urls import path

from interventions.views import alerts, flags, nudges, results, strategy, surveys, syncs, testing, webhooks

P = "p/<int:project_id>/interventions/"
urlpatterns = [
    # the tabs
    path(P, nudges.nudge_list, name="interventions"),
    path(f"{P}surveys/", surveys.survey_list, name="interventions_surveys"),
    path(f"{P}flags/", flags.flag_list, name="interventions_flags"),
    path(f"{P}webhooks/", webhooks.webhook_list, name="webhooks"),
    path(f"{P}alerts/", alerts.alert_list, name="alerts"),
    path(f"{P}syncs/", syncs.sync_list, name="syncs"),
    path(f"{P}strategy/", strategy.strategy_page, name="strategy"),
    # nudges
    path(f"{P}nudges/new/", nudges.nudge_new, name="nudge_new"),
    path(f"{P}nudges/<int:nudge_id>/", nudges.nudge_edit, name="nudge_edit"),
    path(f"{P}nudges/<int:nudge_id>/status/", nudges.nudge_status, name="nudge_status"),
    path(f"{P}nudges/<int:nudge_id>/delete/", nudges.nudge_delete, name="nudge_delete"),
    path(f"{P}nudges/<int:object_id>/results/", results.nudge_results, name="nudge_results"),
    path(f"{P}nudges/<int:object_id>/lift/", results.nudge_lift, name="nudge_lift"),
    path(f"{P}nudges/<int:nudge_id>/test/", testing.nudge_test, name="nudge_test"),
    # surveys
    path(f"{P}surveys/new/", surveys.survey_new, name="survey_new"),
    path(f"{P}surveys/<int:survey_id>/", surveys.survey_edit, name="survey_edit"),
    path(f"{P}surveys/<int:survey_id>/status/", surveys.survey_status, name="survey_status"),
    path(f"{P}surveys/<int:survey_id>/delete/", surveys.survey_delete, name="survey_delete"),
    path(f"{P}surveys/<int:survey_id>/results/", surveys.survey_results, name="survey_results"),
    path(f"{P}surveys/<int:object_id>/lift/", results.survey_lift, name="survey_lift"),
    path(f"{P}surveys/<int:survey_id>/test/", testing.survey_test, name="survey_test"),
    # feature flags
    path(f"{P}flags/new/", flags.flag_new, name="flag_new"),
    path(f"{P}flags/<int:flag_id>/", flags.flag_edit, name="flag_edit"),
    path(f"{P}flags/<int:flag_id>/switch/", flags.flag_switch, name="flag_switch"),
    path(f"{P}flags/<int:flag_id>/delete/", flags.flag_delete, name="flag_delete"),
    path(f"{P}flags/<int:object_id>/results/", results.flag_results, name="flag_results"),
    path(f"{P}flags/<int:object_id>/lift/", results.flag_lift, name="flag_lift"),
    # webhooks
    path(f"{P}webhooks/new/", webhooks.webhook_new, name="webhook_new"),
    path(f"{P}webhooks/<int:webhook_id>/", webhooks.webhook_edit, name="webhook_edit"),
    path(f"{P}webhooks/<int:webhook_id>/secret/", webhooks.webhook_secret, name="webhook_secret"),
    path(
        f"{P}webhooks/<int:webhook_id>/secret/rotate/",
        webhooks.webhook_secret_rotate,
        name="webhook_secret_rotate",
    ),
    path(f"{P}webhooks/<int:webhook_id>/test/", webhooks.webhook_test, name="webhook_test"),
    path(f"{P}webhooks/<int:webhook_id>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path(f"{P}webhooks/<int:webhook_id>/deliveries/", webhooks.webhook_deliveries, name="webhook_deliveries"),
    path(
        f"{P}webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/resend/",
        webhooks.delivery_resend,
        name="delivery_resend",
    ),
    # alerts
    path(f"{P}alerts/new/", alerts.alert_new, name="alert_new"),
    path(f"{P}alerts/<int:alert_id>/", alerts.alert_edit, name="alert_edit"),
    path(f"{P}alerts/<int:alert_id>/delete/", alerts.alert_delete, name="alert_delete"),
    # scheduled exports of a segment
    path(f"{P}syncs/new/", syncs.sync_new, name="sync_new"),
    path(f"{P}syncs/<int:sync_id>/", syncs.sync_edit, name="sync_edit"),
    path(f"{P}syncs/<int:sync_id>/run/", syncs.sync_run, name="sync_run"),
    path(f"{P}syncs/<int:sync_id>/secret/", syncs.sync_secret, name="sync_secret"),
    path(f"{P}syncs/<int:sync_id>/secret/rotate/", syncs.sync_secret_rotate, name="sync_secret_rotate"),
    path(f"{P}syncs/<int:sync_id>/delete/", syncs.sync_delete, name="sync_delete"),
    path(f"{P}syncs/<int:sync_id>/files/<int:run_id>/", syncs.sync_file, name="sync_file"),
]
