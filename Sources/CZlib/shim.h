// The system zlib (shipped with the Swift toolchain's Foundation on Linux and in macOS's SDK):
// deflate/inflate for .npz archives and CRC-32 for their entries.
#include <zlib.h>
