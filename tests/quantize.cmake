# Model quantization (`ingot quantize`) against llama-quantize's files.
ingot_test(test_quantize LAYERS base format tensor model tokenizer)
