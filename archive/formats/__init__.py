"""Pure parsers and renderers: bytes in, `Document`s out, and back. Nothing here imports Django."""
