// See CNablaMPI.h. Requests of non-blocking operations live in a small table indexed by handle.
#include <limits.h>
#include <string.h>
#include <mpi.h>
#include "CNablaMPI.h"

#define NABLA_MPI_MAX_REQUESTS 1024
static MPI_Request requests[NABLA_MPI_MAX_REQUESTS];
static int request_used[NABLA_MPI_MAX_REQUESTS];

int nabla_mpi_init(int *rank, int *size, int *local_size) {
    int ready = 0;
    MPI_Initialized(&ready);
    if (!ready) {
        int provided = 0;
        int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) return rc;
    }
    // Report errors as return codes rather than aborting inside MPI, so that Swift can name them.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, *rank, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
        MPI_Comm_size(local, local_size);
        MPI_Comm_free(&local);
    } else {
        *local_size = 1;
    }
    for (int i = 0; i < NABLA_MPI_MAX_REQUESTS; i++) request_used[i] = 0;
    return 0;
}

int nabla_mpi_initialized(void) {
    int ready = 0, done = 0;
    MPI_Initialized(&ready);
    MPI_Finalized(&done);
    return ready && !done;
}

void nabla_mpi_finalize(void) {
    if (nabla_mpi_initialized()) MPI_Finalize();
}

// MPI counts are ints: larger buffers go in chunks.
#define CHUNKED(count, call)                                                  \
    for (long start = 0; start < (count); start += INT_MAX / 2) {             \
        long n = (count) - start < INT_MAX / 2 ? (count) - start : INT_MAX / 2; \
        int rc = (call);                                                      \
        if (rc != MPI_SUCCESS) return rc;                                     \
    }                                                                         \
    return 0;

int nabla_mpi_allreduce_sum_f32(float *values, long count) {
    CHUNKED(count, MPI_Allreduce(MPI_IN_PLACE, values + start, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD))
}

int nabla_mpi_allreduce_sum_f64(double *values, long count) {
    CHUNKED(count, MPI_Allreduce(MPI_IN_PLACE, values + start, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD))
}

int nabla_mpi_broadcast(void *bytes, long count, int root) {
    CHUNKED(count, MPI_Bcast((char *)bytes + start, (int)n, MPI_BYTE, root, MPI_COMM_WORLD))
}

int nabla_mpi_iallreduce_sum_f32(float *values, long count) {
    if (count > INT_MAX) return -1;
    for (int i = 0; i < NABLA_MPI_MAX_REQUESTS; i++) {
        if (!request_used[i]) {
            if (MPI_Iallreduce(MPI_IN_PLACE, values, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &requests[i]) != MPI_SUCCESS) return -1;
            request_used[i] = 1;
            return i;
        }
    }
    return -1;
}

void nabla_mpi_progress(void) {
    for (int i = 0; i < NABLA_MPI_MAX_REQUESTS; i++) {
        if (request_used[i] && requests[i] != MPI_REQUEST_NULL) {
            int done = 0;
            MPI_Test(&requests[i], &done, MPI_STATUS_IGNORE);
        }
    }
}

int nabla_mpi_wait(int handle) {
    if (handle < 0 || handle >= NABLA_MPI_MAX_REQUESTS || !request_used[handle]) return -1;
    int rc = MPI_Wait(&requests[handle], MPI_STATUS_IGNORE);
    request_used[handle] = 0;
    return rc;
}

int nabla_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

void nabla_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

void nabla_mpi_error_string(int code, char *out, int capacity) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
    text[length < MPI_MAX_ERROR_STRING ? length : MPI_MAX_ERROR_STRING - 1] = 0;
    if (capacity > 0) {
        strncpy(out, text, (size_t)capacity - 1);
        out[capacity - 1] = 0;
    }
}
