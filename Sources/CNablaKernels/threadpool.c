// A persistent thread pool: workers are created once, spin briefly waiting for work (a GEMM or a
// large elementwise op arrives every few microseconds during training) and then sleep on a
// condition variable. The calling thread always takes the first range itself, then claims every
// range no worker has started: when another process holds a core and a worker is not scheduled, the
// caller does its share instead of spinning until the scheduler runs it (which cost 10x and more
// when one core was busy). Each range is claimed once, by compare-and-swap of its generation.
#include "CNablaKernels.h"
#include "cpu.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <unistd.h>

#define NABLA_MAX_THREADS 64
#define NABLA_SPIN_ITERATIONS 200000
#define NABLA_YIELD_EVERY 256       /* a spinning thread yields its core this often, for other processes */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_dispatch = PTHREAD_MUTEX_INITIALIZER; // one parallel region at a time
static pthread_mutex_t g_sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wake = PTHREAD_COND_INITIALIZER;

static int g_started;                  // workers created (excluding the caller)
static atomic_int g_requested = 0;     // threads the user asked for (0: all cores)
static atomic_long g_generation = 0;
static atomic_int g_sleepers = 0;
static atomic_int g_outstanding = 0;  // ranges of the current region not yet finished
static atomic_long g_claim[NABLA_MAX_THREADS + 1]; // the generation that claimed each range

static nabla_range_fn g_fn;
static int g_simd_limit;               // the SIMD limit of the thread that started the region
static void *g_ctx;
static long g_begin[NABLA_MAX_THREADS + 1];
static long g_end[NABLA_MAX_THREADS + 1];
static int g_active;                   // threads taking part in the current region

static _Thread_local int t_in_region = 0;

static inline void cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Runs range `i` of region `gen` unless it was claimed already; returns whether it ran.
static int claim_and_run(int i, long gen) {
    long c = atomic_load_explicit(&g_claim[i], memory_order_acquire);
    if (c >= gen || !atomic_compare_exchange_strong(&g_claim[i], &c, gen)) return 0;
    if (g_begin[i] < g_end[i]) g_fn(g_ctx, g_begin[i], g_end[i]);
    atomic_fetch_sub_explicit(&g_outstanding, 1, memory_order_acq_rel);
    return 1;
}

static void *worker_main(void *arg) {
    int id = (int)(long)arg; // 1-based; 0 is the caller
    t_in_region = 1;
    long seen = 0; // workers start before the first region is published (generation 0)
    for (;;) {
        long gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&g_generation, memory_order_acquire)) == seen &&
               spins < NABLA_SPIN_ITERATIONS) {
            cpu_relax();
            if (++spins % NABLA_YIELD_EVERY == 0) sched_yield();
        }
        if (gen == seen) {
            pthread_mutex_lock(&g_sleep_lock);
            atomic_fetch_add(&g_sleepers, 1);
            while ((gen = atomic_load(&g_generation)) == seen) pthread_cond_wait(&g_wake, &g_sleep_lock);
            atomic_fetch_sub(&g_sleepers, 1);
            pthread_mutex_unlock(&g_sleep_lock);
        }
        seen = gen;
        // A worker late for its region finds its range claimed (by the caller) and waits for the next.
        if (id < g_active) {
            nabla_simd_limit(g_simd_limit);   // run the range with its caller's kernels
            claim_and_run(id, gen);
        }
    }
    return NULL;
}

static atomic_int g_hardware_threads = 0;

// sysconf reads /sys on every call, far too slow for a per-op question: ask once.
static int hardware_threads(void) {
    int cached = atomic_load_explicit(&g_hardware_threads, memory_order_relaxed);
    if (cached > 0) return cached;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > NABLA_MAX_THREADS) n = NABLA_MAX_THREADS;
    atomic_store(&g_hardware_threads, (int)n);
    return (int)n;
}

static void start_pool(void) {
    int n = hardware_threads();
    for (int i = 1; i < n; i++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, worker_main, (void *)(long)i) == 0) g_started++;
        pthread_attr_destroy(&attr);
    }
}

int nabla_thread_count(void) {
    int req = atomic_load(&g_requested);
    int hw = hardware_threads();
    if (req <= 0 || req > hw) return hw;
    return req;
}

void nabla_set_thread_count(int count) { atomic_store(&g_requested, count); }

void nabla_parallel_for(long n, long min_per_thread, long align, nabla_range_fn fn, void *ctx) {
    if (n <= 0) return;
    if (min_per_thread < 1) min_per_thread = 1;
    if (align < 1) align = 1;
    int threads = nabla_thread_count();
    long by_work = n / min_per_thread;
    if (by_work < threads) threads = (int)by_work;
    if (threads <= 1 || t_in_region) { fn(ctx, 0, n); return; }
    pthread_once(&g_once, start_pool);
    if (threads > g_started + 1) threads = g_started + 1;
    if (threads <= 1 || pthread_mutex_trylock(&g_dispatch) != 0) { fn(ctx, 0, n); return; }

    long units = (n + align - 1) / align;
    for (int i = 0; i < threads; i++) {
        long b = units * i / threads * align, e = units * (i + 1) / threads * align;
        g_begin[i] = b < n ? b : n;
        g_end[i] = e < n ? e : n;
    }
    g_fn = fn;
    g_simd_limit = nabla_simd_thread_limit();
    g_ctx = ctx;
    g_active = threads;
    atomic_store(&g_outstanding, threads - 1);
    long gen = atomic_fetch_add_explicit(&g_generation, 1, memory_order_seq_cst) + 1;
    if (atomic_load(&g_sleepers) > 0) {
        pthread_mutex_lock(&g_sleep_lock);
        pthread_cond_broadcast(&g_wake);
        pthread_mutex_unlock(&g_sleep_lock);
    }
    t_in_region = 1;
    fn(ctx, g_begin[0], g_end[0]);
    for (int i = 1; i < threads; i++) claim_and_run(i, gen);   // ranges no worker has started
    t_in_region = 0;
    int spins = 0;
    while (atomic_load_explicit(&g_outstanding, memory_order_acquire) > 0) {   // a worker is still on its range
        cpu_relax();
        if (++spins % NABLA_YIELD_EVERY == 0) sched_yield();
    }
    pthread_mutex_unlock(&g_dispatch);
}
