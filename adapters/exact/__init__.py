"""The Exact Online adapter: client, tokens, resources, mapping and emulator."""
