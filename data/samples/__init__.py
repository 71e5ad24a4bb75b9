"""The bundled sample catalogue and rules (a Tmall die-cast model-car store for Double 11)."""
