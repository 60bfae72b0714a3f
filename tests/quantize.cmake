# Model quantization (`ingot quantize`) against llama-quantize's files, and
# the `quantize` and `bench` commands.
ingot_test(test_quantize LAYERS base format tensor model tokenizer)
ingot_cli_test(quantize)
ingot_cli_test(bench)
