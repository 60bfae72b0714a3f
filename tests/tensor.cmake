# Tests of the tensor layer's type kernels.
ingot_test(test_types LAYERS base tensor)
# Against llama.cpp's outputs in the fixtures (dequantization, quantizer).
ingot_test(test_dequant LAYERS base tensor format)
