"""advisor: prompt, RAG, fine-tune, continue pre-training or train — and where to run it — decided with evidence."""

__version__ = "0.1.0"
