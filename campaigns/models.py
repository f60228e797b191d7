# Models arrive with this app's capability; see docs/architecture.md.
