"""Events out of the process: webhook deliveries (signed per the Standard Webhooks specification), attempted by
a worker in every server process."""
