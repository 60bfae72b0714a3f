/* Model-level quantization (the library side of `ingot quantize`): the
 * table of file types ("Q4_K_M" -> llama_ftype number and base tensor
 * type), the per-tensor type plan that follows llama.cpp's documented
 * mixture rules, and the conversion itself (ingot_quantize_file in
 * include/ingot.h). The plan is exposed here so tests can compare it with
 * files llama-quantize wrote. */
#ifndef INGOT_MODEL_QUANTIZE_H
#define INGOT_MODEL_QUANTIZE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/gguf.h"
#include "ingot.h"
#include "tensor/types.h"

/* One target of `ingot quantize`: llama.cpp's name and llama_ftype number
 * (written to general.file_type), and the type most tensors get. */
typedef struct ingot_qftype {
    const char *name;  /* "Q4_K_M" */
    uint32_t ftype;    /* 15 */
    ingot_type base;   /* INGOT_TYPE_Q4_K */
    const char *about; /* one line for --help */
} ingot_qftype;

/* The whole table, in display order; *n receives its length. */
const ingot_qftype *ingot_qftype_table(size_t *n);
/* By name, case-insensitive; "Q3_K", "Q4_K", "Q5_K" are the _M kinds, as
 * llama-quantize reads them. NULL if unknown. */
const ingot_qftype *ingot_qftype_find(const char *name);
/* By llama_ftype number (general.file_type); NULL if not in the table. */
const ingot_qftype *ingot_qftype_by_id(uint32_t ftype);

/* Whether llama.cpp would quantize this tensor at all (a 2-D or larger
 * weight that is not a norm, a gate of experts, a position embedding...).
 * Tensors it would not quantize keep their type. */
bool ingot_quantize_tensor_allowed(const ingot_gguf_tensor *t);

/* Decides the output type of every tensor of g (out[i] for tensor i of
 * the file) for file type ft. pure: every quantizable tensor gets ft's base
 * type (no mixture). fallback (may be NULL) receives, per tensor, whether
 * its row length forced a smaller-block type than the rules chose. Source
 * types are not checked: a quantized file can be planned (tests compare
 * the plan of llama.cpp-made files with their actual types). */
ingot_status ingot_quantize_plan(const ingot_gguf *g, const ingot_qftype *ft, bool pure, ingot_type *out,
                                 bool *fallback, ingot_error *err);
#endif
