# Generation layer: sampler chain, text streaming, prompts, sessions, and
# the `run` and `chat` commands. The generate layer's objects reference the
# model, tokenizer and chat layers, so every test links them.
set(_gen_layers base format tensor tokenizer model chat generate)
ingot_test(test_sampler LAYERS ${_gen_layers})
ingot_test(test_generate_stream LAYERS ${_gen_layers})
ingot_test(test_generate_prompt LAYERS ${_gen_layers})
ingot_test(test_generate LAYERS ${_gen_layers})
ingot_cli_test(run)
ingot_cli_test(chat)
# 77: a tool the test needs (python3 for --json, tmux for the terminal) is missing.
set_tests_properties(cli_run cli_chat PROPERTIES SKIP_RETURN_CODE 77)
