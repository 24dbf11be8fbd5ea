"""The Interventions pages: nudges, surveys, feature flags, webhooks, alerts, their results, and the strategy map."""
