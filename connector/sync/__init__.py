"""The bridge service: triggers, engine, durable state, scheduler."""
