/* Streaming of generated text without a model: stop strings split across
 * tokens are never emitted, split UTF-8 characters are held until whole,
 * invalid bytes become U+FFFD, and a callback can cancel. */
#include "generate/stream.h"
#include "test.h"

typedef struct sink {
    char text[4096];
    size_t len;
    int calls;
    int cancel_after; /* refuse on this call (1-based); 0: never */
    int bad_piece;    /* a piece that was not valid UTF-8 */
} sink;

static bool on_piece(const char *p, size_t n, void *user) {
    sink *s = user;
    s->calls++;
    size_t i = 0;
    while (i < n) {
        size_t l;
        if (ingot_utf8_check((const unsigned char *)p + i, n - i, &l) != 1) {
            s->bad_piece = 1;
            break;
        }
        i += l;
    }
    if (s->len + n < sizeof s->text) {
        memcpy(s->text + s->len, p, n);
        s->len += n;
        s->text[s->len] = 0;
    }
    return !(s->cancel_after && s->calls >= s->cancel_after);
}

/* Feeds the tokens; returns the final status. */
static ingot_status run(const char *const *stop, int32_t n_stop, const char *const *tokens, int n_tok, sink *out,
                        bool *stopped) {
    ingot_textstream ts;
    ingot_error err;
    memset(out->text, 0, sizeof out->text);
    out->len = 0;
    out->calls = 0;
    out->bad_piece = 0;
    ingot_status st = ingot_textstream_init(&ts, stop, n_stop, on_piece, out, &err);
    if (st) return st;
    for (int i = 0; i < n_tok && st == INGOT_OK && !ts.stopped; i++)
        st = ingot_textstream_push(&ts, tokens[i], strlen(tokens[i]), &err);
    if (st == INGOT_OK) st = ingot_textstream_finish(&ts, &err);
    *stopped = ts.stopped;
    ingot_textstream_free(&ts);
    return st;
}

static void test_stop_strings(void) {
    sink s = {0};
    bool stopped;
    const char *stop1[] = {"</end>"};
    /* the stop string arrives in four tokens */
    const char *t1[] = {"Hello", " wor", "ld</", "e", "nd", "> ignored", "more"};
    CHECK_INT_EQ(run(stop1, 1, t1, 7, &s, &stopped), INGOT_OK);
    CHECK(stopped, "stop string not found");
    CHECK_STR_EQ(s.text, "Hello world");
    /* a false start is released once it cannot match any more */
    const char *t2[] = {"a</", "en", "x b"};
    CHECK_INT_EQ(run(stop1, 1, t2, 3, &s, &stopped), INGOT_OK);
    CHECK(!stopped, "false start stopped");
    CHECK_STR_EQ(s.text, "a</enx b");
    /* a prefix still pending at the end is ordinary text */
    const char *t3[] = {"tail </e"};
    CHECK_INT_EQ(run(stop1, 1, t3, 1, &s, &stopped), INGOT_OK);
    CHECK_STR_EQ(s.text, "tail </e");
    /* the earliest of several stop strings wins; the text is cut inside a token */
    const char *stop2[] = {"\n\n", "User:", ""};
    const char *t4[] = {"one\nUs", "er: two\n\n"};
    CHECK_INT_EQ(run(stop2, 3, t4, 2, &s, &stopped), INGOT_OK);
    CHECK(stopped, "User: not found");
    CHECK_STR_EQ(s.text, "one\n");
    /* overlapping candidates: "aab" in "aaab" */
    const char *stop3[] = {"aab"};
    const char *t5[] = {"a", "a", "a", "b", "c"};
    CHECK_INT_EQ(run(stop3, 1, t5, 5, &s, &stopped), INGOT_OK);
    CHECK(stopped, "aab not found");
    CHECK_STR_EQ(s.text, "a");
    /* the stop string at the very start leaves nothing */
    const char *t6[] = {"aa", "bzz"};
    CHECK_INT_EQ(run(stop3, 1, t6, 2, &s, &stopped), INGOT_OK);
    CHECK(stopped && s.len == 0 && s.calls == 0, "leading stop: '%s' in %d calls", s.text, s.calls);
    /* no stop strings: every token is passed straight on */
    const char *t7[] = {"x", "y", "z"};
    CHECK_INT_EQ(run(NULL, 0, t7, 3, &s, &stopped), INGOT_OK);
    CHECK(s.calls == 3 && !strcmp(s.text, "xyz"), "pass-through: %d calls '%s'", s.calls, s.text);
}

static void test_utf8(void) {
    sink s = {0};
    bool stopped;
    /* "é" (C3 A9) and "😀" (F0 9F 98 80) split across tokens, as byte-fallback
     * tokenizers produce them */
    const char *t1[] = {"caf\xC3", "\xA9 \xF0\x9F", "\x98", "\x80!"};
    CHECK_INT_EQ(run(NULL, 0, t1, 4, &s, &stopped), INGOT_OK);
    CHECK_STR_EQ(s.text, "caf\xC3\xA9 \xF0\x9F\x98\x80!");
    CHECK(!s.bad_piece, "a piece was not valid UTF-8");
    CHECK_INT_EQ(s.calls, 3); /* "caf", "é ", "😀!" ; the lone 0x98 emits nothing */
    /* invalid bytes become U+FFFD (maximal subparts), pieces stay valid */
    const char *t2[] = {"a\xFF", "b\xE2\x82", "c", "\xED\xA0\x80", "d"};
    CHECK_INT_EQ(run(NULL, 0, t2, 5, &s, &stopped), INGOT_OK);
    CHECK_STR_EQ(s.text, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "d");
    CHECK(!s.bad_piece, "a piece was not valid UTF-8");
    /* a character cut by the end of generation */
    const char *t3[] = {"end\xE2\x82"};
    CHECK_INT_EQ(run(NULL, 0, t3, 1, &s, &stopped), INGOT_OK);
    CHECK_STR_EQ(s.text, "end\xEF\xBF\xBD");
    /* a multi-byte stop string split inside its characters */
    const char *stop[] = {"\xE2\x80\x94stop"}; /* "—stop" */
    const char *t4[] = {"x\xE2", "\x80", "\x94st", "op y"};
    CHECK_INT_EQ(run(stop, 1, t4, 4, &s, &stopped), INGOT_OK);
    CHECK(stopped, "multi-byte stop not found");
    CHECK_STR_EQ(s.text, "x");

    size_t l;
    CHECK(ingot_utf8_check((const unsigned char *)"\xC0\x80", 2, &l) == -1 && l == 1, "overlong C0");
    CHECK(ingot_utf8_check((const unsigned char *)"\xE0\x80\x80", 3, &l) == -1 && l == 1, "overlong E0");
    CHECK(ingot_utf8_check((const unsigned char *)"\xF4\x90\x80\x80", 4, &l) == -1, "> U+10FFFF");
    CHECK(ingot_utf8_check((const unsigned char *)"\xF0\x9F\x98", 3, &l) == 0 && l == 3, "incomplete");
    CHECK(ingot_utf8_check((const unsigned char *)"\xF0\x9F\x98\x80", 4, &l) == 1 && l == 4, "emoji");
}

static void test_cancel(void) {
    sink s = {0};
    s.cancel_after = 2;
    bool stopped;
    const char *t[] = {"one ", "two ", "three ", "four"};
    CHECK_INT_EQ(run(NULL, 0, t, 4, &s, &stopped), INGOT_E_CANCELLED);
    CHECK_STR_EQ(s.text, "one two ");
    CHECK_INT_EQ(s.calls, 2);
    /* a stream that was cancelled stays cancelled */
    ingot_textstream ts;
    sink s2 = {0};
    s2.cancel_after = 1;
    ingot_textstream_init(&ts, NULL, 0, on_piece, &s2, NULL);
    CHECK_INT_EQ(ingot_textstream_push(&ts, "a", 1, NULL), INGOT_E_CANCELLED);
    CHECK_INT_EQ(ingot_textstream_push(&ts, "b", 1, NULL), INGOT_E_CANCELLED);
    CHECK_INT_EQ(ingot_textstream_finish(&ts, NULL), INGOT_E_CANCELLED);
    CHECK_INT_EQ(s2.calls, 1);
    ingot_textstream_free(&ts);
    ingot_textstream_free(NULL);
}

int main(void) {
    test_stop_strings();
    test_utf8();
    test_cancel();
    TEST_END();
}
