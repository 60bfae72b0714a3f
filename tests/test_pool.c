/* The thread pool (src/base/pool.c): every thread runs the task once, the
 * barrier holds all of them, and ingot_pool_take hands out 0, 1, 2, ...
 * exactly once each across the threads, starting again at 0 after each
 * barrier and at each task. */
#include <stdatomic.h>
#include <string.h>

#include "base/pool.h"
#include "test.h"

enum { UNITS = 5000, ROUNDS = 4, MAXT = 4 };

typedef struct take_task {
    ingot_pool *pool;
    atomic_int taken[ROUNDS][UNITS]; /* how often each unit was handed out */
    atomic_int ran[MAXT];
    atomic_int past_barrier; /* threads that left round r's barrier early */
    atomic_int arrived[ROUNDS];
    int nth_seen[MAXT];
} take_task;

static void take_worker(void *arg, int ith, int nth) {
    take_task *t = arg;
    atomic_fetch_add(&t->ran[ith], 1);
    t->nth_seen[ith] = nth;
    for (int r = 0; r < ROUNDS; r++) {
        for (long long u = ingot_pool_take(t->pool); u < UNITS; u = ingot_pool_take(t->pool))
            atomic_fetch_add(&t->taken[r][u], 1);
        atomic_fetch_add(&t->arrived[r], 1);
        ingot_pool_barrier(t->pool);
        /* every thread has finished round r before any starts round r + 1 */
        if (atomic_load(&t->arrived[r]) != nth) atomic_fetch_add(&t->past_barrier, 1);
    }
}

static void check_pool(int n) {
    ingot_pool *pool = ingot_pool_new(n);
    CHECK(pool != NULL, "pool of %d", n);
    if (!pool) return;
    CHECK_INT_EQ(ingot_pool_size(pool), n);
    static take_task t;
    for (int run = 0; run < 2; run++) { /* the counter restarts with each task */
        memset(&t, 0, sizeof t);
        t.pool = pool;
        ingot_pool_run(pool, take_worker, &t);
        for (int i = 0; i < n; i++) {
            CHECK(atomic_load(&t.ran[i]) == 1, "pool %d: thread %d ran %d times", n, i, atomic_load(&t.ran[i]));
            CHECK_INT_EQ(t.nth_seen[i], n);
        }
        CHECK(atomic_load(&t.past_barrier) == 0, "pool %d: a thread passed the barrier early", n);
        int bad = 0;
        for (int r = 0; r < ROUNDS; r++)
            for (int u = 0; u < UNITS; u++) bad += atomic_load(&t.taken[r][u]) != 1;
        CHECK(bad == 0, "pool %d, task %d: %d units not handed out exactly once", n, run, bad);
    }
    ingot_pool_free(pool);
}

int main(void) {
    for (int n = 2; n <= MAXT; n++) check_pool(n);
    TEST_END();
}
