"""Contract tests: every request ``SinchWhatsAppClient`` sends is checked against the Sinch wire contract.

- :mod:`.pages`: request schemas transcribed from the page tables (message types, media providers,
  stickerpacks ...) and the page rules JSON Schema cannot say readably (sticker ``url`` xor ``id``);
- :mod:`.spec`: ``whatsapp-api.yaml`` plus an explicit, cited list of page patches = the effective contract;
- :mod:`.validate`: one request in, a :class:`~.validate.Verdict` out (violations name a rule, a place, a page);
- :mod:`.recorder`: captures what sessions from ``client.session.build_session`` put on the wire.

The pytest side (recording during the whole run, failing the test that sent a bad request) is
``tests/contract_plugin.py``.
"""
