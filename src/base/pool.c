/* Owns worker threads. Workers wait for a new "generation" of work by
 * spinning briefly (a decode step arrives every few hundred microseconds)
 * and then sleeping on a condition variable, so an idle pool costs no CPU. */
#include "base/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ volatile("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#define SPIN_ITERS 20000

struct ingot_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    atomic_uint gen;      /* bumped for each task */
    atomic_int pending;   /* workers still running the current task */
    atomic_bool quit;
    ingot_task_fn fn;
    void *arg;
    /* Sense-reversing barrier for ingot_pool_barrier. */
    atomic_int bar_count;
    atomic_int bar_sense;
    /* ingot_pool_take's counter: reset by the barrier's last arriver and
     * at task start, when no thread can be using it. */
    atomic_llong work;
    /* ingot_pool_claim: the interval between barriers (bumped by the
     * barrier's last arriver and at task start) and one slot per thread,
     * epoch << 32 | next << 16 | end of the units left in its share. */
    atomic_uint epoch;
    struct claim_slot {
        _Alignas(64) atomic_ullong v;
    } *slots;
};

typedef struct {
    ingot_pool *pool;
    int ith;
} worker_arg;

static void *worker_main(void *p) {
    worker_arg wa = *(worker_arg *)p;
    free(p);
    ingot_pool *pool = wa.pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&pool->gen, memory_order_acquire)) == seen &&
               !atomic_load(&pool->quit) && spins < SPIN_ITERS) {
            CPU_RELAX();
            spins++;
        }
        if (g == seen && !atomic_load(&pool->quit)) {
            pthread_mutex_lock(&pool->mu);
            while ((g = atomic_load(&pool->gen)) == seen && !atomic_load(&pool->quit))
                pthread_cond_wait(&pool->cv_work, &pool->mu);
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load(&pool->quit)) return NULL;
        seen = g;
        pool->fn(pool->arg, wa.ith, pool->n);
        if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->mu);
            pthread_cond_signal(&pool->cv_done);
            pthread_mutex_unlock(&pool->mu);
        }
    }
}

ingot_pool *ingot_pool_new(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    ingot_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n = n_threads;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv_work, NULL);
    pthread_cond_init(&pool->cv_done, NULL);
    atomic_init(&pool->gen, 0);
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->quit, false);
    atomic_init(&pool->bar_count, 0);
    atomic_init(&pool->bar_sense, 0);
    atomic_init(&pool->epoch, 0);
    pool->slots = aligned_alloc(64, sizeof *pool->slots * (size_t)n_threads);
    if (!pool->slots) {
        free(pool);
        return NULL;
    }
    /* tagged with an epoch no interval has yet */
    for (int i = 0; i < n_threads; i++) atomic_init(&pool->slots[i].v, (unsigned long long)UINT32_MAX << 32);
    if (n_threads > 1) {
        pool->threads = calloc((size_t)n_threads - 1, sizeof(pthread_t));
        if (!pool->threads) {
            free(pool->slots);
            free(pool);
            return NULL;
        }
        for (int i = 1; i < n_threads; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (wa) { wa->pool = pool; wa->ith = i; }
            if (!wa || pthread_create(&pool->threads[i - 1], NULL, worker_main, wa) != 0) {
                free(wa);
                pool->n = i; /* join only the ones started */
                ingot_pool_free(pool);
                return NULL;
            }
        }
    }
    return pool;
}

void ingot_pool_free(ingot_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    atomic_store(&pool->quit, true);
    pthread_cond_broadcast(&pool->cv_work);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 1; i < pool->n; i++) pthread_join(pool->threads[i - 1], NULL);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv_work);
    pthread_cond_destroy(&pool->cv_done);
    free(pool->threads);
    free(pool->slots);
    free(pool);
}

int ingot_pool_size(const ingot_pool *pool) { return pool ? pool->n : 1; }

void ingot_pool_barrier(ingot_pool *pool) {
    if (!pool || pool->n == 1) return;
    int sense = atomic_load_explicit(&pool->bar_sense, memory_order_relaxed);
    if (atomic_fetch_add_explicit(&pool->bar_count, 1, memory_order_acq_rel) == pool->n - 1) {
        atomic_store_explicit(&pool->bar_count, 0, memory_order_relaxed);
        atomic_store_explicit(&pool->work, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&pool->epoch, 1, memory_order_relaxed);
        atomic_store_explicit(&pool->bar_sense, !sense, memory_order_release);
        return;
    }
    /* Spin: stages are microseconds apart. Yield after a while so an
     * oversubscribed machine (more threads than free cores) still moves. */
    int spins = 0;
    while (atomic_load_explicit(&pool->bar_sense, memory_order_acquire) == sense) {
        if (++spins < 4096) CPU_RELAX();
        else sched_yield();
    }
}

long long ingot_pool_take(ingot_pool *pool) {
    return atomic_fetch_add_explicit(&pool->work, 1, memory_order_relaxed);
}

static unsigned long long slot_word(unsigned epoch, long long next, long long end) {
    return (unsigned long long)epoch << 32 | (unsigned long long)next << 16 | (unsigned long long)end;
}

long long ingot_pool_claim(ingot_pool *pool, int ith, long long total, long long *count) {
    const int n = pool->n;
    *count = 0;
    if (total <= 0 || total > INGOT_POOL_CLAIM_MAX) return -1;
    /* the last barrier (or the task start) published it */
    const unsigned e = atomic_load_explicit(&pool->epoch, memory_order_relaxed);
    for (int k = 0; k < n; k++) {
        const int v = (ith + k) % n; /* its own share first, then the others' */
        atomic_ullong *s = &pool->slots[v].v;
        unsigned long long cur = atomic_load_explicit(s, memory_order_relaxed);
        for (;;) {
            if ((unsigned)(cur >> 32) != e) {
                /* first use in this interval, by the owner or a thief:
                 * both compute the same share */
                long long lo, hi;
                ingot_split(total, v, n, &lo, &hi);
                const unsigned long long fresh = slot_word(e, lo, hi);
                if (!atomic_compare_exchange_weak_explicit(s, &cur, fresh, memory_order_relaxed,
                                                           memory_order_relaxed))
                    continue;
                cur = fresh;
            }
            const long long next = (long long)(cur >> 16 & 0xffff), end = (long long)(cur & 0xffff);
            if (next >= end) break;
            /* a fraction of what is left (guided: few claims while the
             * share is large, single units at its end); the owner from
             * the front, in order, so that its reads stream; a thief
             * from the back */
            const long long take = (end - next + 2 * n - 1) / (2 * n);
            const unsigned long long want = k ? slot_word(e, next, end - take) : slot_word(e, next + take, end);
            if (atomic_compare_exchange_weak_explicit(s, &cur, want, memory_order_relaxed, memory_order_relaxed)) {
                *count = take;
                return k ? end - take : next;
            }
        }
    }
    return -1;
}

void ingot_pool_run(ingot_pool *pool, ingot_task_fn fn, void *arg) {
    if (!pool || pool->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    atomic_store(&pool->work, 0);
    atomic_fetch_add_explicit(&pool->epoch, 1, memory_order_relaxed);
    atomic_store(&pool->pending, pool->n - 1);
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add_explicit(&pool->gen, 1, memory_order_release);
    pthread_cond_broadcast(&pool->cv_work);
    pthread_mutex_unlock(&pool->mu);
    fn(arg, 0, pool->n);
    int spins = 0;
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0 && spins < SPIN_ITERS) {
        CPU_RELAX();
        spins++;
    }
    if (atomic_load(&pool->pending) > 0) {
        pthread_mutex_lock(&pool->mu);
        while (atomic_load(&pool->pending) > 0) pthread_cond_wait(&pool->cv_done, &pool->mu);
        pthread_mutex_unlock(&pool->mu);
    }
}
