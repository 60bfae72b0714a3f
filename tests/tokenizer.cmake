# Tokenizer layer: every fixture pair id for id (GGUF vocabularies and
# Hugging Face files), round trips, streaming decode, bad input; the
# `ingot tokenize` command; and the speed benchmark (not a test).
ingot_test(test_tokenizer LAYERS base tensor format tokenizer)
ingot_cli_test(tokenize)
add_executable(tokenizer_bench ${CMAKE_SOURCE_DIR}/bench/tokenizer_bench.c)
target_link_libraries(tokenizer_bench PRIVATE ingot_base ingot_tensor ingot_format ingot_tokenizer ${INGOT_DEPS})
target_include_directories(tokenizer_bench PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
target_compile_definitions(tokenizer_bench PRIVATE INGOT_FIXTURES="${INGOT_FIXTURES}")
