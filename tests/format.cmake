# Format layer tests: GGUF reader/writer against fixtures and broken files.
ingot_test(test_gguf LAYERS base tensor format)
