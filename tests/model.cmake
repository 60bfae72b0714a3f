ingot_test(test_parity LAYERS base tensor format model)
