/* The thread pool (src/base/pool.c): every thread runs the task once, the
 * barrier holds all of them, and ingot_pool_take hands out 0, 1, 2, ...
 * exactly once each across the threads, starting again at 0 after each
 * barrier and at each task; ingot_pool_claim hands out every unit exactly
 * once per interval, each thread's own share in order, and a slow
 * thread's units are taken by the others. */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

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

/* ingot_pool_claim: rounds of several sizes; in odd rounds of 100 units
 * or more thread 0 stalls, so the others must steal from its share. */
enum { CROUNDS = 8 };
static const long long claim_sizes[CROUNDS] = {1, 2, 3, 7, 100, 4999, 5000, 4096};

typedef struct claim_task {
    ingot_pool *pool;
    atomic_int taken[CROUNDS][UNITS];
    atomic_int stolen[CROUNDS]; /* units taken outside the taker's own share */
    atomic_int out_of_order;    /* own units not in ascending order */
    atomic_int too_many;        /* a total above the limit gave a unit */
    atomic_int bad_run;         /* a claim outside [0, total) or empty */
} claim_task;

static void claim_worker(void *arg, int ith, int nth) {
    claim_task *t = arg;
    for (int r = 0; r < CROUNDS; r++) {
        const long long total = claim_sizes[r];
        long long lo, hi, last = -1;
        ingot_split(total, ith, nth, &lo, &hi);
        long long c, u0;
        while ((u0 = ingot_pool_claim(t->pool, ith, total, &c)) >= 0) {
            if (c < 1 || u0 + c > total) {
                atomic_fetch_add(&t->bad_run, 1);
                break;
            }
            for (long long u = u0; u < u0 + c; u++) {
                atomic_fetch_add(&t->taken[r][u], 1);
                if (u < lo || u >= hi) atomic_fetch_add(&t->stolen[r], 1);
                else if (u <= last) atomic_fetch_add(&t->out_of_order, 1);
                else last = u;
            }
            /* the slow thread: after its first run it waits (up to ~5 s)
             * until another thread has stolen from it */
            if (r % 2 && ith == 0 && total >= 100 && u0 == lo)
                for (long spins = 0; !atomic_load(&t->stolen[r]) && spins < 50000; spins++) usleep(100);
        }
        ingot_pool_barrier(t->pool);
    }
    long long c;
    if (ingot_pool_claim(t->pool, ith, INGOT_POOL_CLAIM_MAX + 1, &c) >= 0 || c) atomic_fetch_add(&t->too_many, 1);
}

static void check_claim(ingot_pool *pool, int n) {
    static claim_task t;
    for (int run = 0; run < 2; run++) {
        memset(&t, 0, sizeof t);
        t.pool = pool;
        ingot_pool_run(pool, claim_worker, &t);
        int bad = 0, steals = 0;
        for (int r = 0; r < CROUNDS; r++) {
            for (long long u = 0; u < claim_sizes[r]; u++) bad += atomic_load(&t.taken[r][u]) != 1;
            for (long long u = claim_sizes[r]; u < UNITS; u++) bad += atomic_load(&t.taken[r][u]) != 0;
            if (r % 2 && claim_sizes[r] >= 100) steals += atomic_load(&t.stolen[r]) > 0;
        }
        CHECK(bad == 0, "pool %d, task %d: %d units not claimed exactly once", n, run, bad);
        CHECK(steals == 2, "pool %d: the slow thread's units were stolen in %d of 2 rounds", n, steals);
        CHECK_INT_EQ(atomic_load(&t.out_of_order), 0);
        CHECK_INT_EQ(atomic_load(&t.too_many), 0);
        CHECK_INT_EQ(atomic_load(&t.bad_run), 0);
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
    check_claim(pool, n);
    ingot_pool_free(pool);
}

int main(void) {
    for (int n = 2; n <= MAXT; n++) check_pool(n);
    TEST_END();
}
