/* A persistent thread pool. ingot_pool_run runs one task on every thread
 * (the caller is thread 0) and returns when all are done; kernels split
 * their work by (ith, nth), so their results never depend on scheduling. */
#ifndef INGOT_BASE_POOL_H
#define INGOT_BASE_POOL_H

typedef struct ingot_pool ingot_pool;
typedef void (*ingot_task_fn)(void *arg, int ith, int nth);

/* n_threads counts the caller; 1 makes a pool that runs tasks inline.
 * Returns NULL on failure (out of memory or threads). */
ingot_pool *ingot_pool_new(int n_threads);
void ingot_pool_free(ingot_pool *pool);
int ingot_pool_size(const ingot_pool *pool);
/* Runs fn(arg, ith, nth) for ith in [0, nth). Not reentrant: one caller at
 * a time per pool. */
void ingot_pool_run(ingot_pool *pool, ingot_task_fn fn, void *arg);

/* Waits until every thread of the running task has reached the barrier.
 * Only callable from inside a task run by ingot_pool_run (all nth threads
 * must call it the same number of times). Lets one task hold a whole
 * forward pass with a few cheap synchronisation points instead of one
 * pool_run per operation. */
void ingot_pool_barrier(ingot_pool *pool);

/* A work counter shared by the threads of the running task: returns
 * 0, 1, 2, ... across all threads' calls, and starts again at 0 after
 * every ingot_pool_barrier and at the start of every task. So between two
 * barriers one piece of work can be handed out in units to whichever
 * thread is free (results must not depend on who takes which unit).
 * Only for pools of more than one thread (ingot_pool_size > 1). */
long long ingot_pool_take(ingot_pool *pool);

/* Work shared out with stealing: units [0, total) are split among the
 * threads as ingot_split does; each thread takes the units of its own
 * share from the front, then takes units from the back of the others'
 * shares. Returns the first unit of a run of *count units (a fraction of
 * what is left of that share, down to one unit at its end), or -1 (and
 * *count 0) once every unit is taken. Cheap while each thread works in
 * its own share (an atomic on a cache line no other thread touches, a
 * few times per share), so it suits products of a few hundred
 * microseconds where one shared counter would not. One split per interval
 * between barriers (like ingot_pool_take; every thread of the interval
 * must pass the same total), only for pools of more than one thread,
 * total <= INGOT_POOL_CLAIM_MAX (else -1 at once). */
#define INGOT_POOL_CLAIM_MAX 65535
long long ingot_pool_claim(ingot_pool *pool, int ith, long long total, long long *count);

/* Splits [0, n) into nth near-equal ranges; range ith is [*lo, *hi). */
static inline void ingot_split(long long n, int ith, int nth, long long *lo, long long *hi) {
    long long per = n / nth, rem = n % nth;
    *lo = ith * per + (ith < rem ? ith : rem);
    *hi = *lo + per + (ith < rem ? 1 : 0);
}
#endif
