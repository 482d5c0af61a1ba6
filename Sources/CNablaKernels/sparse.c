// Embedding lookups with row-sparse gradients, and the optimizer updates that touch only those rows:
// a step's cost follows the batch, not the vocabulary.
#include "CNablaKernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

// Where each row of a table sits in the coalesced output (−1: not yet seen). Kept all −1 between
// calls (each call resets exactly the entries it set), so a call costs O(batch), not O(rows).
static _Thread_local int32_t *slot_of_row = NULL;
static _Thread_local long slot_capacity = 0;

static int32_t *row_slots(long rows) {
    if (rows > slot_capacity) {
        int32_t *grown = realloc(slot_of_row, (size_t)rows * sizeof(int32_t));
        if (!grown) return NULL;
        for (long i = slot_capacity; i < rows; i++) grown[i] = -1;
        slot_of_row = grown;
        slot_capacity = rows;
    }
    return slot_of_row;
}

void nabla_embedding_bag_f32(const float *table, const int32_t *ids, long bags, long length, long d, int32_t pad, float *out) {
    for (long b = 0; b < bags; b++) {
        float *restrict y = out + b * d;
        memset(y, 0, (size_t)d * sizeof(float));
        long count = 0;
        for (long j = 0; j < length; j++) {
            int32_t r = ids[b * length + j];
            if (r == pad) continue;
            const float *restrict row = table + (long)r * d;
            for (long k = 0; k < d; k++) y[k] += row[k];
            count++;
        }
        if (count > 1) {
            float s = 1.0f / (float)count;
            for (long k = 0; k < d; k++) y[k] *= s;
        }
    }
}

long nabla_embedding_bag_backward_f32(const int32_t *ids, long bags, long length, int32_t pad, int mean, const float *g, long d,
                                      long table_rows, int32_t *out_rows, float *out_values) {
    int32_t *slot = row_slots(table_rows);
    if (!slot) return -1;
    long k = 0;
    for (long b = 0; b < bags; b++) {
        long count = 0;
        if (mean) {
            for (long j = 0; j < length; j++) count += ids[b * length + j] != pad;
        }
        if (mean && count == 0) continue;
        const float s = mean ? 1.0f / (float)count : 1.0f;
        const float *restrict gb = g + b * d;
        for (long j = 0; j < length; j++) {
            int32_t r = ids[b * length + j];
            if (r == pad) continue;
            float *restrict dst;
            if (slot[r] < 0) {
                slot[r] = (int32_t)k;
                out_rows[k] = r;
                dst = out_values + k * d;
                for (long c = 0; c < d; c++) dst[c] = s * gb[c];
                k++;
            } else {
                dst = out_values + (long)slot[r] * d;
                for (long c = 0; c < d; c++) dst[c] += s * gb[c];
            }
        }
    }
    for (long i = 0; i < k; i++) slot[out_rows[i]] = -1;
    return k;
}
