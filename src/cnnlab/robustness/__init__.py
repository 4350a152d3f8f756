"""How a model holds up under the lecture's challenges of recognition (``cnnlab robustness``)."""
