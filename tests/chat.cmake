# Chat templates (src/chat): every golden case of fixtures/chat/golden.json
# through the library, unit tests of Jinja semantics, and the CLI.
ingot_test(test_chat LAYERS base chat)
ingot_test(test_chat_unit LAYERS base chat)
ingot_cli_test(template)
