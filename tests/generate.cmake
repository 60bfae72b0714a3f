# Generation layer: sampler chain, text streaming, sessions, `run` and `chat`.
ingot_test(test_sampler LAYERS base generate)
ingot_test(test_generate_stream LAYERS base generate)
