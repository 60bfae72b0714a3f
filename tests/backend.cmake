# Config and backend layers (src/config, src/backend): settings precedence
# and validation (test_config), backend selection for injected platforms
# (test_backend_select), the remote backend against a local fake server
# speaking the OpenAI and Ollama wire formats (test_backend_remote), the cpu
# backend on the real stories260K model (test_backend_cpu), and the
# `ingot config` / `ingot doctor` commands as a user runs them.
ingot_test(test_config LAYERS base config)
ingot_test(test_backend_select LAYERS base config format tensor model tokenizer chat generate hub backend)
ingot_test(test_backend_remote LAYERS base config format tensor model tokenizer chat generate hub backend
           SOURCES fake_llm_server.c)
set_tests_properties(test_backend_remote PROPERTIES TIMEOUT 120)

# The fake server as a program, for the CLI tests (doctor, bench).
add_executable(fake_llm_server fake_llm_server.c)
target_compile_definitions(fake_llm_server PRIVATE FAKE_SERVER_MAIN)
target_link_libraries(fake_llm_server PRIVATE PkgConfig::MHD PkgConfig::JANSSON Threads::Threads)
ingot_test(test_backend_cpu LAYERS base config format tensor model tokenizer chat generate hub backend)

ingot_cli_test(config)
ingot_cli_test(doctor)
set_property(TEST cli_doctor APPEND PROPERTY ENVIRONMENT "FAKE_SERVER=$<TARGET_FILE:fake_llm_server>")
set_tests_properties(cli_doctor PROPERTIES TIMEOUT 120)

# `ingot bench --backends` runs once cli/cmd_bench.c hands --backends to
# cli_bench_backends (cli/bench_backends.c).
set(_bench_src "")
if(EXISTS ${CMAKE_SOURCE_DIR}/cli/cmd_bench.c)
  file(READ ${CMAKE_SOURCE_DIR}/cli/cmd_bench.c _bench_src)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/cli/cmd_bench.c)
endif()
if(_bench_src MATCHES "cli_bench_backends")
  ingot_cli_test(bench_backends)
  set_property(TEST cli_bench_backends APPEND PROPERTY ENVIRONMENT "FAKE_SERVER=$<TARGET_FILE:fake_llm_server>")
  set_tests_properties(cli_bench_backends PROPERTIES TIMEOUT 120)
endif()
