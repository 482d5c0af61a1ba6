// A caching allocator: blocks are rounded up to a power of two (at least 64 bytes) and kept on a
// free list per size class, so the many short-lived tensors of a training step reuse memory
// instead of going to malloc/free each time. Large blocks above the cache limit go straight back.
#include "CNablaKernels.h"
#include <stdatomic.h>
#include <stdlib.h>

#define NABLA_ALIGN 64
#define NABLA_CLASSES 48
#define NABLA_CACHE_LIMIT ((size_t)2 << 30) /* bytes kept at most */

typedef struct free_block { struct free_block *next; } free_block;

static free_block *g_free_lists[NABLA_CLASSES];
static size_t g_cached_bytes;
static atomic_flag g_lock = ATOMIC_FLAG_INIT;

static inline void lock(void) {
    while (atomic_flag_test_and_set_explicit(&g_lock, memory_order_acquire)) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
    }
}
static inline void unlock(void) { atomic_flag_clear_explicit(&g_lock, memory_order_release); }

static inline int size_class(size_t bytes) {
    if (bytes <= NABLA_ALIGN) return 6;
    return 64 - __builtin_clzll((unsigned long long)(bytes - 1));
}

void *nabla_alloc(size_t bytes) {
    int cls = size_class(bytes);
    if (cls < NABLA_CLASSES) {
        lock();
        free_block *b = g_free_lists[cls];
        if (b) {
            g_free_lists[cls] = b->next;
            g_cached_bytes -= (size_t)1 << cls;
            unlock();
            return b;
        }
        unlock();
    }
    void *p = NULL;
    size_t rounded = cls < NABLA_CLASSES ? ((size_t)1 << cls) : bytes;
    if (posix_memalign(&p, NABLA_ALIGN, rounded) != 0) return NULL;
    return p;
}

void nabla_free(void *ptr, size_t bytes) {
    if (!ptr) return;
    int cls = size_class(bytes);
    size_t rounded = (size_t)1 << cls;
    if (cls < NABLA_CLASSES) {
        lock();
        if (g_cached_bytes + rounded <= NABLA_CACHE_LIMIT) {
            free_block *b = (free_block *)ptr;
            b->next = g_free_lists[cls];
            g_free_lists[cls] = b;
            g_cached_bytes += rounded;
            unlock();
            return;
        }
        unlock();
    }
    free(ptr);
}

void nabla_allocator_trim(void) {
    lock();
    for (int c = 0; c < NABLA_CLASSES; c++) {
        free_block *b = g_free_lists[c];
        while (b) { free_block *n = b->next; free(b); b = n; }
        g_free_lists[c] = NULL;
    }
    g_cached_bytes = 0;
    unlock();
}

size_t nabla_allocator_cached_bytes(void) {
    lock();
    size_t v = g_cached_bytes;
    unlock();
    return v;
}
