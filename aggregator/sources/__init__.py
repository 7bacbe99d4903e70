"""Where entries come from: downloading feeds (``fetch``, with ``discover`` for HTML pages that
name their feed), reading them (``parse``), deciding when each is due again (``schedule``) and
feed lists in OPML (``opml``)."""
