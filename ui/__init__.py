"""The Chainlit chat front end of spec-agent: decorators in app.py, logic in handlers.py."""
