ingot_test(test_parity LAYERS base tensor format model)
ingot_test(test_model LAYERS base tensor format model)
ingot_cli_test(eval_show)
