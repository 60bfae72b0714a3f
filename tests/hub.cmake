# Hub layer (src/hub): reference parsing and file choice without a network
# (test_hub_ref), and the client against a fake hub on 127.0.0.1
# (tests/hub_server.c, libmicrohttpd) serving fixture files in place:
# test_hub drives the library, cli/hub.sh the `ingot` command.
add_executable(hub_server hub_server.c)
target_link_libraries(hub_server PRIVATE PkgConfig::MHD PkgConfig::CRYPTO Threads::Threads)

ingot_test(test_hub_ref LAYERS base hub)

ingot_test(test_hub LAYERS base hub)
target_compile_definitions(test_hub PRIVATE HUB_SERVER="$<TARGET_FILE:hub_server>")
add_dependencies(test_hub hub_server)
set_tests_properties(test_hub PROPERTIES TIMEOUT 120)

ingot_cli_test(hub)
set_property(TEST cli_hub APPEND PROPERTY ENVIRONMENT "HUB_SERVER=$<TARGET_FILE:hub_server>")
set_tests_properties(cli_hub PROPERTIES TIMEOUT 120)
