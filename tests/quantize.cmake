# Model quantization (`ingot quantize`) against llama-quantize's files, and
# the `quantize` and `bench` commands.
ingot_test(test_quantize LAYERS base format tensor model tokenizer)
ingot_cli_test(quantize)
ingot_cli_test(bench)
# The benchmark-model synthesizer (bench/make-models.sh runs it), and its
# test: a shrunken qwen2.5 shape whose GGUF vocabulary must tokenize like
# the tokenizer.json it came from, then quantize and run.
add_executable(ingot-synth ${CMAKE_SOURCE_DIR}/tools/synth.c)
target_link_libraries(ingot-synth PRIVATE ingot_base ingot_format ingot_tensor ${INGOT_DEPS})
target_include_directories(ingot-synth PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
add_test(NAME cli_synth COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/synth.sh)
set_tests_properties(cli_synth PROPERTIES ENVIRONMENT
  "INGOT=$<TARGET_FILE:ingot>;INGOT_SYNTH=$<TARGET_FILE:ingot-synth>;INGOT_FIXTURES=${INGOT_FIXTURES};INGOT_SRC=${CMAKE_SOURCE_DIR}")
