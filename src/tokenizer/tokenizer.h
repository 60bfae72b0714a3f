/* Internal view of a tokenizer: the vocabulary (token texts, scores,
 * types, a text->id hash), the merge table, added/special tokens, and the
 * text pipeline (normalizers, pre-tokenizer steps, model options, decoder
 * rules) shared by every loader. Loaders (GGUF, tokenizer.json,
 * vocab.json+merges.txt) only fill this struct; encode.c, bpe.c, pretok.c
 * and decode.c run it. A built tokenizer is immutable, so one handle may be
 * used from several threads at once. */
#ifndef INGOT_TOKENIZER_TOKENIZER_H
#define INGOT_TOKENIZER_TOKENIZER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/gguf.h"
#include "ingot.h"

#define TOK_CP_TABLE 0x10000 /* cp_tok covers the Basic Multilingual Plane */

/* Token types, numbered as GGUF's tokenizer.ggml.token_type. */
enum {
    TOK_TYPE_UNDEFINED = 0,
    TOK_TYPE_NORMAL = 1,
    TOK_TYPE_UNKNOWN = 2,
    TOK_TYPE_CONTROL = 3,
    TOK_TYPE_USER_DEFINED = 4,
    TOK_TYPE_UNUSED = 5,
    TOK_TYPE_BYTE = 6
};

typedef enum tok_algo {
    TOK_ALGO_SPM = 0, /* merge adjacent symbols whose concatenation is the
                         highest-scored vocab token (SentencePiece BPE) */
    TOK_ALGO_BPE = 1  /* merge the lowest-ranked pair of the merge list */
} tok_algo;

/* Growable byte buffer. */
typedef struct tok_buf {
    char *p;
    size_t n, cap;
} tok_buf;
bool tok_buf_reserve(tok_buf *b, size_t extra);
bool tok_buf_put(tok_buf *b, const void *s, size_t n);
void tok_buf_free(tok_buf *b);

/* ---- normalizers ------------------------------------------------------ */
typedef enum tok_norm_kind {
    TOK_NORM_NFC, TOK_NORM_NFD, TOK_NORM_NFKC, TOK_NORM_NFKD,
    TOK_NORM_LOWERCASE, TOK_NORM_PREPEND, TOK_NORM_REPLACE, TOK_NORM_STRIP
} tok_norm_kind;

typedef struct tok_norm {
    tok_norm_kind kind;
    char *a, *b;     /* prepend: a; replace: a -> b (a literal unless re) */
    void *re;        /* replace with a regex pattern: compiled pcre2 code */
    bool left, right; /* strip */
} tok_norm;

/* ---- pre-tokenizer ---------------------------------------------------- */
typedef enum tok_split_behavior {
    TOK_SPLIT_REMOVED, TOK_SPLIT_ISOLATED, TOK_SPLIT_MERGED_PREV,
    TOK_SPLIT_MERGED_NEXT, TOK_SPLIT_CONTIGUOUS
} tok_split_behavior;

typedef enum tok_pre_kind {
    TOK_PRE_SPLIT,      /* regex (or literal) split with a behaviour */
    TOK_PRE_BYTE_LEVEL, /* map bytes to GPT-2's printable code points */
    TOK_PRE_METASPACE   /* ' ' -> replacement, optional prefix, optional split */
} tok_pre_kind;

typedef enum tok_prepend { TOK_PREPEND_NEVER, TOK_PREPEND_FIRST, TOK_PREPEND_ALWAYS } tok_prepend;

typedef struct tok_pre {
    tok_pre_kind kind;
    void *re;        /* pcre2_code* for SPLIT */
    tok_split_behavior behavior;
    bool invert;
    bool add_prefix_space; /* BYTE_LEVEL */
    char repl[8];          /* METASPACE replacement (UTF-8) */
    tok_prepend prepend;   /* METASPACE */
    bool split;            /* METASPACE */
} tok_pre;

/* ---- added tokens ----------------------------------------------------- */
typedef struct tok_added {
    int32_t id;
    bool special;    /* control token: matched only when parsing specials */
    bool normalized; /* matched in the normalized text instead of the raw one */
    bool lstrip, rstrip;
} tok_added;

/* Byte trie over added-token contents, for leftmost-longest matching. */
typedef struct tok_trie_node {
    int32_t child;   /* first child, -1 none */
    int32_t sibling; /* next sibling, -1 none */
    int32_t added;   /* index into added[] ending here, -1 none */
    uint8_t byte;
} tok_trie_node;

typedef struct tok_trie {
    tok_trie_node *nodes;
    int32_t n, cap;
    int32_t root_child[256]; /* direct table for the first byte */
} tok_trie;

/* text -> id table slot: the id (-1 empty) and 32 more bits of the hash */
typedef struct tok_hash_slot {
    int32_t id;
    uint32_t fp;
    uint32_t off, len; /* copies of the token's, so a probe reads one line */
} tok_hash_slot;

/* ---- merges: (left id, right id) -> (rank, merged id) ------------------ */
typedef struct tok_merge_slot {
    uint64_t key; /* (left << 32) | right; UINT64_MAX empty */
    int32_t rank;
    int32_t id;
} tok_merge_slot;

/* a merge waiting in tok_merges_add's queue: a and b stored back to back */
typedef struct tok_merge_q {
    uint32_t off, na, nb; /* in mq_text */
    int32_t rank;
} tok_merge_q;
#define TOK_MQ 32 /* merges resolved together (their lookups overlap) */

struct ingot_tokenizer {
    char model_name[16]; /* "llama" (SentencePiece) or "gpt2" (byte-level) ... */
    tok_algo algo;
    int32_t n_vocab;
    /* token texts: all in one buffer; text of id i = strs.p + off[i], len[i] */
    tok_buf strs;
    uint32_t *off, *len;
    float *scores;  /* SPM merge priority (may be NULL for BPE) */
    uint8_t *types; /* TOK_TYPE_* */
    /* text -> id (open addressing, power of two; -1 = empty) */
    tok_hash_slot *hash;
    uint32_t hash_mask;
    uint32_t hash_count;
    bool hash_stale; /* texts changed since the hash was built */
    /* merges */
    tok_merge_slot *merges;
    uint64_t merges_mask;
    int32_t n_merges;
    tok_merge_q mq[TOK_MQ]; /* queued by tok_merges_add (load time only) */
    int32_t mq_n;
    tok_buf mq_text;
    /* model options */
    bool byte_fallback;  /* unknown chars become <0xXX> tokens */
    bool fuse_unk;       /* consecutive unknown chars give one <unk> */
    bool ignore_merges;  /* a pre-token that is a vocab entry is kept whole */
    bool meta_words;     /* no token has U+2581 after another character, so
                            merges never cross the start of a "▁word" and
                            long texts can be encoded word by word */
    int32_t byte_tok[256]; /* id of <0xXX>; -1 when absent */
    int32_t *cp_tok;       /* id of the one-code-point token cp, -1 absent */
    /* pipeline */
    tok_norm *norm;
    int n_norm;
    tok_pre *pre;
    int n_pre;
    /* added tokens */
    tok_added *added;
    int32_t n_added;
    tok_trie trie_raw, trie_norm;
    int32_t *added_of; /* id -> index in added[] or -1 (n_vocab entries) */
    uint64_t *added_bits; /* ids in added[] (a bit each), while loading */
    size_t added_bits_n;  /* words */
    /* decoder */
    bool dec_byte_level;   /* pieces are GPT-2 mapped bytes */
    bool dec_byte_fallback; /* <0xXX> pieces are raw bytes */
    char dec_space[8];     /* piece text standing for ' ' (U+2581), "" none */
    int dec_strip;         /* leading spaces to drop from the whole text */
    /* specials */
    int32_t bos, eos, eot, pad, unk, sep;
    bool add_bos, add_eos;
    int32_t *eog;
    int32_t n_eog;
};

/* ---- vocab.c: building ------------------------------------------------ */
/* Allocates arrays for n tokens (texts empty, type UNDEFINED). */
ingot_status tok_vocab_init(ingot_tokenizer *t, int32_t n, ingot_error *err);
/* Sets the text of token id (copied). */
ingot_status tok_vocab_set(ingot_tokenizer *t, int32_t id, const char *s, size_t n, ingot_error *err);
/* Grows the vocabulary to n tokens (new ones empty, UNUSED). */
ingot_status tok_vocab_grow(ingot_tokenizer *t, int32_t n, ingot_error *err);
/* Builds the text->id hash once all texts are set. Duplicated texts keep
 * the lowest id. */
ingot_status tok_vocab_index(ingot_tokenizer *t, ingot_error *err);
/* Id of an exact token text, -1 when absent. */
int32_t tok_vocab_find(const ingot_tokenizer *t, const char *s, size_t n);
/* Merge table. */
ingot_status tok_merges_init(ingot_tokenizer *t, int32_t n, ingot_error *err);
/* Adds merge "a b" of rank r; silently skips merges whose parts or result
 * are not in the vocabulary (as Hugging Face refuses them at load). Merges
 * are queued and resolved a batch at a time: call tok_merges_flush after
 * the last one, before any vocabulary text changes. */
ingot_status tok_merges_add(ingot_tokenizer *t, const char *a, size_t na, const char *b, size_t nb,
                            int32_t rank, ingot_error *err);
ingot_status tok_merges_flush(ingot_tokenizer *t, ingot_error *err);
bool tok_merges_get(const ingot_tokenizer *t, int32_t a, int32_t b, int32_t *rank, int32_t *id);
/* Registers an added token (id must exist); builds nothing yet. */
ingot_status tok_added_add(ingot_tokenizer *t, int32_t id, bool special, bool normalized, bool lstrip,
                           bool rstrip, ingot_error *err);
/* Builds the tries, the byte table, the end-of-generation list and checks
 * special ids. Called by every loader last. */
ingot_status tok_finish(ingot_tokenizer *t, ingot_error *err);

/* ---- pretok.c --------------------------------------------------------- */
/* Compiles a PCRE2 pattern (UTF + Unicode properties, JIT when available). */
void *tok_regex_compile(const char *pattern, size_t len, bool literal, ingot_error *err);
void tok_regex_free(void *re);
/* Applies the normalizers to s[0..n) into out (replacing its content). */
ingot_status tok_normalize(const ingot_tokenizer *t, const char *s, size_t n, tok_buf *out,
                           ingot_error *err);
/* A pre-token: a span of a buffer. */
typedef struct tok_span {
    uint32_t off, len;
} tok_span;
typedef struct tok_spans {
    tok_span *v;
    size_t n, cap;
} tok_spans;
/* Pre-tokenizes s[0..n) (already normalized): on return, buf holds the
 * model-domain text and spans its pieces. first: the segment starts the
 * input (Metaspace "first" rule). */
ingot_status tok_pretokenize(const ingot_tokenizer *t, const char *s, size_t n, bool first,
                             tok_buf *buf, tok_spans *spans, tok_buf *scratch, tok_spans *scratch2,
                             void *match_data, ingot_error *err);
void *tok_match_data_new(void);
void tok_match_data_free(void *md);
/* Copies s[0..n) into out with each invalid UTF-8 sequence replaced by
 * U+FFFD; out is left empty and *changed false when s was valid. False on
 * OOM. */
bool tok_utf8_sanitize(const char *s, size_t n, tok_buf *out, bool *changed);
/* Unicode White_Space. */
bool tok_is_white(uint32_t cp);
/* GPT-2 byte <-> code point map. */
uint32_t tok_byte_to_cp(uint8_t b);
int tok_cp_to_byte(uint32_t cp); /* -1 when cp is not a mapped byte */
/* Appends the UTF-8 encoding of cp; returns bytes written (1..4). */
int tok_utf8_put(char *dst, uint32_t cp);
/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid
 * or truncated; *cp receives the code point. */
int tok_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* ---- bpe.c ------------------------------------------------------------ */
typedef struct tok_ids {
    int32_t *v;
    size_t n, cap;
} tok_ids;
bool tok_ids_push(tok_ids *ids, int32_t id);
typedef struct tok_bpe_scratch tok_bpe_scratch;
tok_bpe_scratch *tok_bpe_scratch_new(void);
void tok_bpe_scratch_free(tok_bpe_scratch *s);
/* Runs the model over one pre-token (model-domain text), appending ids. */
ingot_status tok_bpe_encode(const ingot_tokenizer *t, const char *s, size_t n, tok_bpe_scratch *sc,
                            tok_ids *out, ingot_error *err);

/* ---- loaders ---------------------------------------------------------- */
ingot_tokenizer *tok_alloc(void);
ingot_status ingot_tokenizer_from_gguf(const ingot_gguf *g, ingot_tokenizer **out, ingot_error *err);
ingot_status tok_load_hf_json(const char *path, ingot_tokenizer **out, ingot_error *err);
ingot_status tok_load_vocab_merges(const char *dir, ingot_tokenizer **out, ingot_error *err);
/* Standard pre-tokenizer pipelines, by llama.cpp's tokenizer.ggml.pre names
 * ("gpt-2", "llama-bpe", "qwen2", "deepseek-coder", "starcoder", "falcon"...). */
ingot_status tok_set_pre_by_name(ingot_tokenizer *t, const char *name, ingot_error *err);
/* Adds a byte-level pre-tokenizer step / regex split step. */
ingot_status tok_pre_add_split(ingot_tokenizer *t, const char *pattern, size_t len, bool literal,
                               tok_split_behavior b, bool invert, ingot_error *err);
ingot_status tok_pre_add_byte_level(ingot_tokenizer *t, bool add_prefix_space, bool use_regex,
                                    ingot_error *err);
ingot_status tok_pre_add_metaspace(ingot_tokenizer *t, const char *repl, tok_prepend prepend, bool split,
                                   ingot_error *err);
ingot_status tok_norm_add(ingot_tokenizer *t, tok_norm_kind k, const char *a, const char *b,
                          bool regex, ingot_error *err);
#endif
