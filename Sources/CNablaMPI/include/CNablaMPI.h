// The C shim between Nabla's Swift code and Open MPI: plain functions over MPI_COMM_WORLD, which
// Swift cannot name (Open MPI's handles are macros). Built only with NABLA_MPI=1.
#ifndef CNABLA_MPI_H
#define CNABLA_MPI_H

#ifdef __cplusplus
extern "C" {
#endif

/// Initialises MPI (funneled threading: only the calling thread makes MPI calls); returns 0 on success.
/// Errors return instead of aborting, so that the caller reports them.
int nabla_mpi_init(int *rank, int *size, int *local_size);
int nabla_mpi_initialized(void);
void nabla_mpi_finalize(void);
int nabla_mpi_allreduce_sum_f32(float *values, long count);
int nabla_mpi_allreduce_sum_f64(double *values, long count);
/// Starts an in-place sum; returns a handle ≥ 0 for nabla_mpi_wait, or -1.
int nabla_mpi_iallreduce_sum_f32(float *values, long count);
/// Tests every started operation once, so that MPI advances them.
void nabla_mpi_progress(void);
int nabla_mpi_wait(int handle);
int nabla_mpi_broadcast(void *bytes, long count, int root);
int nabla_mpi_barrier(void);
/// Ends every process of the job with `code` after printing nothing more.
void nabla_mpi_abort(int code);
/// The text of an MPI error code.
void nabla_mpi_error_string(int code, char *out, int capacity);

#ifdef __cplusplus
}
#endif
#endif
