"""The JSON API: incidents, their timelines and the actions on them, with an OpenAPI document."""
