"""The callbacks Vibes sends: an endpoint that authenticates and stores each delivery in
one INSERT, then a task that parses the stored events into typed events and applies them
to the CRM through its services; with the callback log's admin (replay, resolve) and the
registration of our endpoint at Vibes."""
