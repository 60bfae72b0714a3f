ingot_test(test_parity LAYERS base tensor format tokenizer model)
ingot_test(test_model LAYERS base tensor format tokenizer model)
ingot_cli_test(eval_show)
ingot_test(test_attn LAYERS base tensor format)
