"""The worker fleet: consume lane streams, dispatch to skills, record outcomes, ack."""
