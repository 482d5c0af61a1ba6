// Open MPI's C header, for the C shim in CNablaMPI (Swift cannot import MPI_COMM_WORLD and the
// other handles: they are macros that cast addresses of library globals).
#include <mpi.h>
