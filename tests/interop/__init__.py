"""Interoperability: this library against OAuth code it did not write, and the other way round."""
