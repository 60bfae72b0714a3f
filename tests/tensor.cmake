# Tests of the tensor layer's type kernels.
ingot_test(test_types LAYERS base tensor)
