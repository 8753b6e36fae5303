"""The ``local`` embeddings plugin: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime."""

from inferia_embeddings_local.model import MiniLmEmbeddings, create

__all__ = ["MiniLmEmbeddings", "create"]
