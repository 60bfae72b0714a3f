/* Owns worker threads. Workers wait for a new "generation" of work by
 * spinning briefly (a decode step arrives every few hundred microseconds)
 * and then sleeping on a condition variable, so an idle pool costs no CPU. */
#include "base/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sched.h>
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
    if (n_threads > 1) {
        pool->threads = calloc((size_t)n_threads - 1, sizeof(pthread_t));
        if (!pool->threads) { free(pool); return NULL; }
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
    free(pool);
}

int ingot_pool_size(const ingot_pool *pool) { return pool ? pool->n : 1; }

void ingot_pool_barrier(ingot_pool *pool) {
    if (!pool || pool->n == 1) return;
    int sense = atomic_load_explicit(&pool->bar_sense, memory_order_relaxed);
    if (atomic_fetch_add_explicit(&pool->bar_count, 1, memory_order_acq_rel) == pool->n - 1) {
        atomic_store_explicit(&pool->bar_count, 0, memory_order_relaxed);
        atomic_store_explicit(&pool->work, 0, memory_order_relaxed);
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

void ingot_pool_run(ingot_pool *pool, ingot_task_fn fn, void *arg) {
    if (!pool || pool->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    atomic_store(&pool->work, 0);
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
