"""What operators see: Prometheus metrics (`metrics.py`) and structured JSON logs (`logs.py`)."""
