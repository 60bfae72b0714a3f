/* Owns packing a loaded model's matrices into the kernels' packed layout
 * (tensor/pack.h): one allocation for all of them, filled by a few
 * threads in chunks of row groups, after which the file pages of the
 * packed tensors are given back (madvise) so the model is not resident
 * twice. The token embedding keeps its file rows for lookups; when the
 * output projection is tied to it, only the output's copy is packed.
 * Packing starts on background threads (ingot_model_pack_start) so that
 * the caller can load the tokenizer meanwhile, then the caller joins the
 * work (ingot_model_pack_finish). INGOT_PACK=0 in the environment turns
 * packing off. */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/error.h"
#include "base/platform.h"
#include "model/model.h"
#include "tensor/pack.h"

/* Row groups per unit of work (a few hundred KB of weights). */
#define CHUNK_GROUPS 32

typedef struct pack_job {
    ingot_weight **ws;
    int n;
    int64_t *first_unit; /* prefix sums of units per weight */
    int64_t n_units;
    atomic_llong next;
    bool mapped;
} pack_job;

static int64_t units_of(const ingot_weight *w) {
    return (w->ne1 / INGOT_PACK_ROWS + CHUNK_GROUPS - 1) / CHUNK_GROUPS;
}

static void drop_pages(const void *p, size_t len) {
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1), b = ((uintptr_t)p + len) & ~(page - 1);
    if (b > a) (void)madvise((void *)a, b - a, MADV_DONTNEED);
}

static void *pack_worker(void *arg) {
    pack_job *j = arg;
    int wi = 0;
    for (;;) {
        long long u = atomic_fetch_add(&j->next, 1);
        if (u >= j->n_units) break;
        while (wi + 1 < j->n && j->first_unit[wi + 1] <= u) wi++;
        while (wi > 0 && j->first_unit[wi] > u) wi--;
        const ingot_weight *w = j->ws[wi];
        const int64_t g0 = (u - j->first_unit[wi]) * CHUNK_GROUPS, ng = w->ne1 / INGOT_PACK_ROWS;
        const int64_t g1 = g0 + CHUNK_GROUPS < ng ? g0 + CHUNK_GROUPS : ng;
        ingot_pack_groups(w->type, w->ne0, w->data, w->row_bytes, g0, g1, (void *)w->packed);
        /* give the file pages back as soon as they are packed (a few
         * hundred KB at a time), so that the peak is not both copies */
        if (j->mapped)
            drop_pages((const char *)w->data + (size_t)g0 * INGOT_PACK_ROWS * w->row_bytes,
                       (size_t)(g1 - g0) * INGOT_PACK_ROWS * w->row_bytes);
    }
    return NULL;
}

struct ingot_pack_run {
    ingot_model *m;
    ingot_weight **ws;
    int64_t *first;
    pack_job job;
    pthread_t th[8];
    int started;
};

static void run_free(ingot_pack_run *r) {
    if (!r) return;
    free(r->ws);
    free(r->first);
    free(r);
}

ingot_status ingot_model_pack_start(ingot_model *m, ingot_pack_run **out, ingot_error *err) {
    *out = NULL;
    const char *env = getenv("INGOT_PACK");
    if (env && !strcmp(env, "0")) return INGOT_OK;
    const int per_layer = 9;
    const int cap = m->hp.n_layer * per_layer + 1;
    ingot_pack_run *r = calloc(1, sizeof *r);
    if (r) {
        r->ws = calloc((size_t)cap, sizeof *r->ws);
        r->first = calloc((size_t)cap + 1, sizeof *r->first);
    }
    if (!r || !r->ws || !r->first) {
        run_free(r);
        return ingot_error_set(err, INGOT_E_NOMEM, "out of memory");
    }
    int n = 0;
    for (int il = 0; il < m->hp.n_layer; il++) {
        ingot_layer *L = &m->layers[il];
        ingot_weight *cand[] = {&L->wq, &L->wk, &L->wv, &L->wqkv, &L->wo,
                                &L->w_gate, &L->w_up, &L->w_gate_up, &L->w_down};
        for (size_t i = 0; i < sizeof cand / sizeof *cand; i++)
            if (ingot_weight_pack_size(cand[i])) r->ws[n++] = cand[i];
    }
    if (ingot_weight_pack_size(&m->output)) r->ws[n++] = &m->output;
    if (!n) {
        run_free(r);
        return INGOT_OK;
    }
    size_t total = 0;
    for (int i = 0; i < n; i++) total += (ingot_weight_pack_size(r->ws[i]) + 63) & ~(size_t)63;
    void *mem = NULL;
    /* 2 MiB aligned and backed by transparent huge pages where the system
     * allows it (THP "madvise" mode): generation streams every packed byte
     * once per token, and with 4 KiB pages that is a TLB miss every 4 KiB */
    const size_t huge = (size_t)2 << 20;
    if (total >= huge) total = (total + huge - 1) & ~(huge - 1);
    if (posix_memalign(&mem, total >= huge ? huge : 64, total)) {
        run_free(r);
        return ingot_error_set(err, INGOT_E_NOMEM, "%s: cannot allocate %zu bytes for packed weights",
                               m->path, total);
    }
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        ingot_weight *w = r->ws[i];
        w->packed = (char *)mem + at;
        w->group_bytes = ingot_pack_group_bytes(w->type, w->ne0);
        at += (ingot_weight_pack_size(w) + 63) & ~(size_t)63;
        r->first[i + 1] = r->first[i] + units_of(w);
    }
#ifdef MADV_HUGEPAGE
    if (total >= huge) (void)madvise(mem, total, MADV_HUGEPAGE);
#endif
    m->packed_mem = mem;
    m->packed_bytes = total;
    r->m = m;
    r->job = (pack_job){r->ws, n, r->first, r->first[n], 0, ingot_gguf_is_mapped(m->gguf)};
    int nth = ingot_cpu_count();
    if (nth > 8) nth = 8;
    for (int i = 1; i < nth; i++)
        if (!pthread_create(&r->th[r->started], NULL, pack_worker, &r->job)) r->started++;
    *out = r;
    return INGOT_OK;
}

void ingot_model_pack_finish(ingot_pack_run *r) {
    if (!r) return;
    pack_worker(&r->job);
    for (int i = 0; i < r->started; i++) pthread_join(r->th[i], NULL);
    run_free(r);
}
